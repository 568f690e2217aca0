from orchestration.conversations import new_messages
from orchestration.protocol import Message, ToolCall
from servers.gateway.turns import conversation_id_of, prepare_turn, trim_history


def m(role, content):
    return Message(role=role, content=content)


U1, A1, U2, A2, U3 = m("user", "q1"), m("assistant", "a1"), m("user", "q2"), m("assistant", "a2"), m("user", "q3")


def test_full_history_resent_keeps_only_the_new_message():
    assert new_messages([U1, A1], [U1, A1, U2]) == [U2]


def test_only_the_new_message_sent():
    assert new_messages([U1, A1], [U2]) == [U2]


def test_history_longer_than_the_trimmed_store():
    assert new_messages([U2, A2], [U1, A1, U2, A2, U3]) == [U3]


def test_the_same_question_asked_again_is_a_new_turn():
    assert new_messages([U1, A1], [U1]) == [U1]


def test_system_message_applies_to_the_turn_and_is_not_stored():
    system = m("system", "be brief")
    turn = prepare_turn([U1, A1], [system, U1, A1, U2], max_context_tokens=1000)
    assert turn.instruction == "q2"
    assert turn.context == [system, U1, A1]
    assert turn.to_store == [U2]


def test_trimming_drops_oldest_turns_first_and_keeps_system():
    history = [m("user", "old " * 200), m("assistant", "old " * 200), U2, A2]
    system = [m("system", "rules")]
    kept = trim_history(history, budget=60, system=system, instruction="q3")
    assert kept == [U2, A2]


def test_conversation_id_precedence():
    assert conversation_id_of("body", {"conversation_id": "meta"}, "header") == "body"
    assert conversation_id_of(None, {"conversation_id": "meta"}, "header") == "meta"
    assert conversation_id_of(None, None, "header") == "header"
    assert conversation_id_of(None, None, None).startswith("conv-")


def test_calls_and_results_sent_after_the_question_are_this_turns_exchange():
    call = ToolCall(id="c1", name="get_time", arguments="{}")
    sent = [Message(role="user", content="time?"), Message(role="assistant", content="", tool_calls=[call]),
            Message(role="tool", content="14:05", tool_call_id="c1")]
    turn = prepare_turn([], sent, 1000)
    assert turn.instruction == "time?"
    assert [m.role for m in turn.context] == ["assistant", "tool"]  # the agent loop's steps reach the writer
    assert turn.to_store == sent
