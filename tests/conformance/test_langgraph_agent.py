"""A LangGraph prebuilt ReAct agent with two tools runs a multi-step tool loop through Chorus.

The agent is LangChain's ChatOpenAI pointed at the gateway; the tools run in this test process.
"""

import warnings

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # create_react_agent is deprecated in favour of langchain's create_agent
    from langgraph.prebuilt import create_react_agent


@pytest.mark.xdist_group("embedded")  # its last step is the model's: an answer that uses the tools' results
def test_react_agent_calls_both_tools_one_step_at_a_time_then_answers_with_their_results(embedded_stack):
    stack = embedded_stack
    calls: list[tuple[str, str]] = []

    @tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        calls.append(("get_weather", city))
        return f"Sunny and 21 C in {city}."

    @tool
    def get_time(zone: str) -> str:
        """The local time in a time zone."""
        calls.append(("get_time", zone))
        return "14:05"

    llm = ChatOpenAI(
        base_url=stack.base_url, api_key="unused", model="chorus", temperature=0, seed=1, max_retries=0, timeout=180
    )
    agent = create_react_agent(llm, [get_weather, get_time])
    out = agent.invoke(
        {"messages": [("user", "What is the weather in Paris, and the local time there?")]}, {"recursion_limit": 8}
    )
    messages = out["messages"]
    steps = [m for m in messages if isinstance(m, AIMessage) and m.tool_calls]
    assert [len(s.tool_calls) for s in steps] == [1, 1]  # two steps, one call each
    assert sorted(name for name, _ in calls) == ["get_time", "get_weather"]
    assert all(arg.strip() for _, arg in calls)
    assert len([m for m in messages if isinstance(m, ToolMessage)]) == 2
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls and final.content.strip()
    assert any(value in final.content for value in ("14:05", "21", "unny")), final.content
