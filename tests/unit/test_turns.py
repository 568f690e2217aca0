from orchestration.protocol import Message, ToolCall
from servers.gateway.conversations import Revision, new_messages, reconcile
from servers.gateway.turns import prepare_turn, trim_history


def m(role, content):
    return Message(role=role, content=content)


U1, A1, U2, A2, U3 = m("user", "q1"), m("assistant", "a1"), m("user", "q2"), m("assistant", "a2"), m("user", "q3")


def test_full_history_resent_keeps_only_the_new_message():
    assert reconcile([U1, A1], [U1, A1, U2]) == Revision(2, [U2])


def test_only_the_new_message_sent():
    assert reconcile([U1, A1], [U2]) == Revision(2, [U2])


def test_history_longer_than_the_trimmed_store():
    assert reconcile([U2, A2], [U1, A1, U2, A2, U3]) == Revision(2, [U3])


def test_the_same_question_asked_again_is_a_new_turn():
    assert reconcile([U1, A1], [U1]) == Revision(2, [U1])


def test_a_regenerate_drops_the_last_answer():
    assert reconcile([U1, A1, U2, A2], [U1, A1, U2]) == Revision(3, [])
    turn = prepare_turn([U1, A1, U2, A2], [U1, A1, U2], max_context_tokens=1000)
    assert turn.instruction == "q2" and turn.context == [U1, A1]


def test_an_edit_replaces_the_tail_from_the_edited_message():
    edited = m("user", "q2, edited")
    assert reconcile([U1, A1, U2, A2], [U1, A1, edited]) == Revision(2, [edited])


def test_an_edit_of_the_first_message_replaces_the_whole_history():
    edited = Message(role="user", content="What is 3 + 3?")
    assert reconcile([U1, A1], [edited, A1, U2]) == Revision(0, [edited, A1, U2])
    assert reconcile([U1, A1, U2, A2], [edited, A1, U2]) == Revision(0, [edited, A1, U2])
    assert reconcile([U1, A1], [edited, U2]) == Revision(2, [edited, U2])  # no answer in it: new messages


def test_a_lone_tool_result_continues_the_call_it_answers():
    call = Message(role="assistant", content="", tool_calls=[ToolCall(id="c1", name="f", arguments="{}")])
    result = Message(role="tool", content="ok", tool_call_id="c1")
    assert reconcile([U1, call], [call, result]) == Revision(2, [result])
    assert new_messages([U1, call], [result]) == [result]


def test_system_message_applies_to_the_turn_and_is_not_stored():
    system = m("system", "be brief")
    turn = prepare_turn([U1, A1], [system, U1, A1, U2], max_context_tokens=1000)
    assert turn.instruction == "q2"
    assert turn.context == [system, U1, A1]
    assert turn.revise([U1, A1]) == Revision(2, [U2])


def test_trimming_drops_oldest_turns_first_and_keeps_system():
    history = [m("user", "old " * 200), m("assistant", "old " * 200), U2, A2]
    system = [m("system", "rules")]
    kept = trim_history(history, budget=60, system=system, instruction="q3")
    assert kept == [U2, A2]


def test_calls_and_results_sent_after_the_question_are_this_turns_exchange():
    call = ToolCall(id="c1", name="get_time", arguments="{}")
    sent = [
        Message(role="user", content="time?"),
        Message(role="assistant", content="", tool_calls=[call]),
        Message(role="tool", content="14:05", tool_call_id="c1"),
    ]
    turn = prepare_turn([], sent, 1000)
    assert turn.instruction == "time?"
    assert [m.role for m in turn.context] == ["assistant", "tool"]  # the agent loop's steps reach the writer
    assert turn.revise([]) == Revision(0, sent)
