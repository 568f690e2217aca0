from orchestration.protocol import EventType, Message, Step, StepStarted, TaskEvent, TaskResult
from servers.gateway.conversation_keys import fingerprint, named_conversation, next_fingerprint
from servers.gateway.progress import line_of, lines_of

PLAN = Step(agent="supervisor", name="plan", agents=["researcher", "analyst", "writer"])
RESEARCH = Step(agent="researcher", name="task", detail="4 passages from conversations.md and operations.md")
ANALYSIS = Step(
    agent="analyst", name="task", status="failed", detail="HTTP 502: the analyst's LLM at http://127.0.0.1:1/v1"
)
WRITER_TOOLS = Step(agent="writer", name="tools")


def test_events_become_readable_lines_and_other_events_none():
    finished = [TaskEvent(type=EventType.step_finished, data=s) for s in (PLAN, RESEARCH, ANALYSIS, WRITER_TOOLS)]
    assert [line_of(e) for e in finished] == [
        "Planning: researcher and analyst, then the writer.",
        "Researcher: 4 passages from conversations.md and operations.md.",
        "Analyst: not available for this answer.",  # why (with its URL) stays in the trace
        None,  # the writer's line comes when it starts
    ]
    started = TaskEvent(type=EventType.step_started, data=StepStarted(agent="writer", name="tools"))
    assert line_of(started) == "Writer: answering."
    assert line_of(TaskEvent(type=EventType.step_started, data=StepStarted(agent="analyst", name="task"))) is None
    fast = Step(agent="supervisor", name="plan", agents=["writer"])
    assert line_of(TaskEvent(type=EventType.step_finished, data=fast)) == "Planning: the writer answers directly."


def test_a_whole_answer_has_the_same_lines_from_its_recorded_steps():
    result = TaskResult(
        task_id="t",
        agent="supervisor",
        output="",
        steps=[PLAN, RESEARCH, ANALYSIS, WRITER_TOOLS, Step(agent="writer", name="llm")],
    )
    assert lines_of(result) == [
        "Planning: researcher and analyst, then the writer.",
        "Researcher: 4 passages from conversations.md and operations.md.",
        "Analyst: not available for this answer.",
        "Writer: answering.",
    ]


def m(role: str, content: str) -> Message:
    return Message(role=role, content=content)


def test_the_next_turns_history_matches_the_fingerprint_left_by_this_one():
    sent = [m("system", "Be brief."), m("user", "Hi")]
    left = next_fingerprint("key-a", sent, m("assistant", "Hello!"))
    next_request = [m("system", "Be terse."), m("user", "Hi "), m("assistant", "Hello!\n"), m("user", "More")]
    dialogue = [x for x in next_request if x.role != "system"]
    assert fingerprint("key-a", dialogue[:-1]) == left  # system messages and end whitespace aside
    assert fingerprint("key-b", dialogue[:-1]) != left  # another key never finds it
    assert fingerprint("key-a", [m("user", "Hi"), m("assistant", "Bye")]) != left


class _Body:
    def __init__(self, **fields):
        self.__dict__.update(fields)


def test_the_named_conversation_follows_the_documented_order():
    headers = {"x-conversation-id": "header", "x-openwebui-chat-id": "webui"}
    assert named_conversation(_Body(conversation_id="body", metadata={"conversation_id": "meta"}), headers) == "body"
    assert named_conversation(_Body(conversation_id=None, metadata={"conversation_id": "meta"}), headers) == "meta"
    assert named_conversation(_Body(conversation_id=None, metadata={"conversation_id": 7}), headers) == "header"
    assert named_conversation(_Body(call={"id": "call-1"}), {"x-openwebui-chat-id": "webui"}) == "call-1"
    assert named_conversation(_Body(), {"x-openwebui-chat-id": "webui"}) == "webui"
    assert named_conversation(_Body(), {}) is None
