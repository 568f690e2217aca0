"""How often `tool_choice: auto` decides right on tests/evals/tool_choice.jsonl: the rules that
decide in service, and the embedded model deciding by itself (constrained to a function name or
"none"), for the figure the choice of rules rests on."""

from __future__ import annotations

import asyncio
import json

from langchain_core.messages import HumanMessage, SystemMessage

from agents.llm import make_chat_model
from agents.structured import choose_function
from config import PROJECT_ROOT, Settings
from orchestration.http import make_http_client
from orchestration.protocol import TaskRequest

TOOL_CHOICE_SET = PROJECT_ROOT / "tests" / "evals" / "tool_choice.jsonl"
TOOLS = {
    "get_weather": "Get the current weather in a city",
    "get_time": "Get the local time in a city or time zone",
    "search_flights": "Search for flights between two cities on a date",
    "send_email": "Send an email to a recipient with a message",
    "convert_currency": "Convert an amount of money from one currency to another",
    "create_event": "Create an event in the user's calendar at a date and time",
}
SPECS = [
    {"type": "function", "function": {"name": n, "description": d, "parameters": {"type": "object"}}}
    for n, d in TOOLS.items()
]
DECISION = {
    "type": "json_schema",
    "json_schema": {
        "name": "decision",
        "strict": True,
        "schema": {
            "type": "object",
            "additionalProperties": False,
            "required": ["function"],
            "properties": {"function": {"enum": [*TOOLS, "none"]}},
        },
    },
}
PROMPT = (
    "You decide whether a request needs one of these functions. Functions:\n"
    + "\n".join(f"- {n}: {d}" for n, d in TOOLS.items())
    + "\nAnswer with the function's name, or none when the request needs no function."
)


def load_rows() -> list[dict]:
    return [json.loads(line) for line in TOOL_CHOICE_SET.read_text().splitlines() if line.strip()]


def by_rules(request: str) -> str | None:
    return choose_function(TaskRequest(instruction=request, tools=SPECS, tool_choice="auto"))[0]


async def by_model(rows: list[dict], settings: Settings) -> list[str | None]:
    async with make_http_client() as http:
        llm = make_chat_model(settings, "writer", http).bind(response_format=DECISION, temperature=0)
        decided = []
        for row in rows:
            reply = await llm.ainvoke([SystemMessage(PROMPT), HumanMessage(row["request"])])
            name = json.loads(str(reply.content))["function"]
            decided.append(None if name == "none" else name)
        return decided


def score(name: str, rows: list[dict], decided: list[str | None]) -> None:
    right = [row["expected"] == d for row, d in zip(rows, decided)]
    calls = [r for r, row in zip(right, rows) if row["expected"]]
    words = [r for r, row in zip(right, rows) if not row["expected"]]
    print(
        f"{name}: {sum(right)}/{len(rows)} = {sum(right) / len(rows):.1%} "
        f"(calls the right function {sum(calls)}/{len(calls)}, answers in words {sum(words)}/{len(words)})"
    )
    for row, d, ok in zip(rows, decided, right):
        if not ok:
            print(f"    expected {row['expected']}, got {d}: {row['request'][:70]!r}")


def report(settings: Settings) -> None:
    rows = load_rows()
    score("tool_choice auto, rules (in service)", rows, [by_rules(r["request"]) for r in rows])
    try:
        decided = asyncio.run(by_model(rows, settings))
    except Exception as error:  # no LLM reachable: say so, the rules figure stands
        print(f"tool_choice auto, model: not measured ({type(error).__name__}: {error})")
        return
    score(f"tool_choice auto, {settings.llm_for('writer').model} deciding", rows, decided)
