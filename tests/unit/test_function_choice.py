"""The rules that decide, under tool_choice auto, whether the writer calls a client's function."""

from agents.structured import choose_function
from orchestration.protocol import Message, TaskRequest, ToolCall


def tool(name: str, description: str) -> dict:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": {"type": "object", "properties": {}}},
    }


TOOLS = [tool("get_weather", "The current weather in a city"), tool("get_time", "The local time in a time zone")]


def task(instruction: str, messages: list[Message] = (), choice=None) -> TaskRequest:
    return TaskRequest(task_id="t", instruction=instruction, messages=list(messages), tools=TOOLS, tool_choice=choice)


def called(name: str, call_id: str, result: str) -> list[Message]:
    return [
        Message(role="assistant", content="", tool_calls=[ToolCall(id=call_id, name=name, arguments="{}")]),
        Message(role="tool", content=result, tool_call_id=call_id),
    ]


def test_a_request_that_needs_two_functions_calls_them_one_step_at_a_time():
    ask = "What is the weather in Paris, and the local time there?"
    first = choose_function(task(ask))[0]
    second = choose_function(task(ask, called(first, "c1", "done")))[0]
    assert {first, second} == {"get_weather", "get_time"}
    both = called(first, "c1", "done") + called(second, "c2", "done")
    assert choose_function(task(ask, both))[0] is None  # every result is in: answer


def test_one_function_then_the_answer():
    ask = "What is the weather in Paris?"
    assert choose_function(task(ask, called("get_weather", "c1", "sunny")))[0] is None


def test_calls_of_an_earlier_turn_do_not_count_in_this_one():
    earlier = [
        Message(role="user", content="Weather in Rome?"),
        *called("get_weather", "c0", "rain"),
        Message(role="assistant", content="It rains in Rome."),
    ]
    assert choose_function(task("And the weather in Paris?", earlier))[0] == "get_weather"


def test_required_and_named_always_call_and_none_never_does():
    assert choose_function(task("hello", choice="required"))[0] in ("get_weather", "get_time")
    named = {"type": "function", "function": {"name": "get_time"}}
    assert choose_function(task("hello", choice=named))[0] == "get_time"
    assert choose_function(task("What is the weather in Paris?", choice="none"))[0] is None
    assert choose_function(task("Tell me a joke."))[0] is None


def test_the_rules_decide_right_on_the_labelled_set():
    from evals import tool_choice

    rows = tool_choice.load_rows()
    right = sum(tool_choice.by_rules(row["request"]) == row["expected"] for row in rows)
    assert right >= len(rows) - 2, right  # `make eval` prints the misses
