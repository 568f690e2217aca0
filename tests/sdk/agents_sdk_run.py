"""An OpenAI Agents SDK run against Chorus, in the SDK's own virtualenv (its package is named `agents`,
like Chorus's folder, so it runs outside the repository). Prints what the runs produced, as JSON.

    python agents_sdk_run.py BASE_URL
"""

import asyncio
import json
import sys

from openai import AsyncOpenAI

from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny and 21 degrees in {city}."


async def main(base_url: str) -> None:
    set_tracing_disabled(True)  # nothing leaves the machine
    client = AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)
    model = OpenAIResponsesModel(model="chorus", openai_client=client)
    plain = await Runner.run(Agent(name="plain", instructions="Answer briefly.", model=model), "What is 15% of 240?")
    tools = Agent(name="weather", instructions="Use the tools to answer.", model=model, tools=[get_weather])
    called = await Runner.run(tools, "What's the weather in Paris?")
    items = [item.type for item in called.new_items]
    print(json.dumps({"plain": plain.final_output, "tools": called.final_output, "tool_items": items}))


asyncio.run(main(sys.argv[1]))
