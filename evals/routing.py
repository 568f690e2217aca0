"""Each planner's routing accuracy on tests/evals/routing.jsonl."""

from __future__ import annotations

import asyncio
import json

from agents.llm import make_chat_model
from config import PROJECT_ROOT, Settings
from orchestration.http import make_http_client
from orchestration.planner import Plan, plan_by_llm, plan_by_rules

ROUTING_SET = PROJECT_ROOT / "tests" / "evals" / "routing.jsonl"


def load_rows() -> list[dict]:
    return [json.loads(line) for line in ROUTING_SET.read_text().splitlines() if line.strip()]


def score(rows: list[dict], plans: list[Plan | None]) -> tuple[int, list[str]]:
    right, misses = 0, []
    for row, plan in zip(rows, plans):
        chosen = sorted(plan.team) if plan else ["(invalid plan)"]
        if chosen == sorted(row["agents"]):
            right += 1
        else:
            misses.append(f"    expected {'+'.join(row['agents'])}, got {'+'.join(chosen)}: {row['request'][:70]!r}")
    return right, misses


async def llm_plans(rows: list[dict], settings: Settings) -> list[Plan | None]:
    async with make_http_client() as http:
        llm = make_chat_model(settings, "supervisor", http)
        return [(await plan_by_llm(row["request"], llm))[0] for row in rows]


def report(settings: Settings) -> None:
    """The rules planner's accuracy, then the LLM planner's on the model the settings name."""
    rows = load_rows()
    right, misses = score(rows, [plan_by_rules(r["request"]) for r in rows])
    print(f"rules planner: {right}/{len(rows)} = {right / len(rows):.1%}")
    print("\n".join(misses))
    try:
        plans = asyncio.run(llm_plans(rows, settings))
    except Exception as error:  # no LLM reachable: say so, the rules figure stands
        print(f"llm planner: not measured ({type(error).__name__}: {error})")
        return
    valid = sum(p is not None for p in plans)
    right, misses = score(rows, plans)
    model = settings.llm_for("supervisor").model
    print(
        f"llm planner ({model}): {right}/{len(rows)} = {right / len(rows):.1%} "
        f"({valid} valid plans; invalid ones fall back to the rules in service)"
    )
