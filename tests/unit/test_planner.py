import json

import pytest
from fastapi import FastAPI
from langchain_openai import ChatOpenAI

from agents.understanding import ModelPlanning, RulesPlanning, planning
from config.settings import Settings
from orchestration.planner import plan_by_rules
from tests.helpers import ROOT, ServerThread


@pytest.mark.parametrize(
    ("request_text", "agents"),
    [
        ("hi there!", []),
        ("Rewrite this more formally: we gotta go", []),
        ("What is the growth rate from 100 to 130?", ["analyst"]),
        ("How do I configure the writer's model?", ["researcher"]),
        ("How do I write unit tests?", ["researcher"]),  # a how-to question, not a request to write
        ("Write a haiku about unit tests.", []),
        ("research what the docs say about Redis and compute 15% of 80", ["researcher", "analyst"]),
    ],
)
def test_rules_route_by_request_kind(request_text, agents):
    assert plan_by_rules(request_text).agents == agents


def test_everyday_figure_questions_and_their_follow_ups_go_to_the_analyst():
    assert plan_by_rules("Find the median of 7, 3, 9, 1 and 5").agents == ["analyst"]  # "find" a figure, not facts
    assert plan_by_rules("Our team closed 18 of 60 deals. What's our win rate?").agents == ["analyst"]
    assert plan_by_rules("What's 120 km/h in mph?").agents == ["analyst"]
    earlier = ["I earn $4,000 a month. What's that per year?"]
    for follow_up in ("and per week?", "what's that a month?", "add 40 to the list", "How much per year is that?"):
        assert plan_by_rules(follow_up, earlier).agents == ["analyst"], follow_up
    for follow_up in ("and the total?", "make it 22%", "and times 3?", "and for 4 people?"):
        assert plan_by_rules(follow_up, ["What's 7% sales tax on $89?"]).agents == ["analyst"], follow_up
    assert plan_by_rules("and the total?", ["Tell me about Redis"]).agents != ["analyst"]


def test_shipped_routing_set_is_large_enough_and_rules_reach_90_percent():
    rows = [json.loads(line) for line in (ROOT / "tests/evals/routing.jsonl").read_text().splitlines() if line]
    assert len(rows) >= 60
    right = sum(sorted(plan_by_rules(r["request"]).team) == sorted(r["agents"]) for r in rows)
    assert right / len(rows) >= 0.9


def fake_llm_app(reply: str) -> FastAPI:
    """A fake OpenAI-compatible endpoint that always answers `reply` (named as the fake it is)."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(body: dict):
        return {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    return app


@pytest.mark.parametrize(
    "reply", ["not json", '{"agents": ["astrologer"], "reason": "x"}', '{"reason": "missing agents"}']
)
async def test_invalid_llm_plan_falls_back_to_rules(reply):
    with ServerThread(fake_llm_app(reply)) as fake:
        llm = ChatOpenAI(base_url=fake.url + "/v1", api_key="k", model="m", max_retries=0)
        step = planning(Settings(_env_file=None, planner="llm"), llm)
        plan = await step.plan("compute the growth from 10 to 20", [])
    assert isinstance(step, ModelPlanning) and step.bounded  # a basic model planning: the grammar's bounds kept
    assert plan.planner == "rules" and plan.agents == ["analyst"]
    assert plan.fallback.startswith("the model's plan")  # the trace says why the rules planned


async def test_valid_llm_plan_is_used():
    reply = '{"agents": ["researcher"], "reason": "needs facts"}'
    with ServerThread(fake_llm_app(reply)) as fake:
        llm = ChatOpenAI(base_url=fake.url + "/v1", api_key="k", model="m", max_retries=0)
        plan = await planning(Settings(_env_file=None, planner="llm"), llm).plan("hello", [])
    assert plan.planner == "llm" and plan.agents == ["researcher"] and not plan.fallback


def test_auto_planner_does_not_ask_the_embedded_model(monkeypatch):
    from orchestration.planner import llm_planning_enabled

    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    assert not llm_planning_enabled(Settings(_env_file=None, planner="auto"))
    assert isinstance(planning(Settings(_env_file=None, planner="auto"), None), RulesPlanning)
    capable = Settings(_env_file=None, planner="auto", supervisor_llm={"base_url": "http://big-model:9000/v1"})
    step = planning(capable, ChatOpenAI(base_url="http://big-model:9000/v1", api_key="k", model="m"))
    assert isinstance(step, ModelPlanning) and not step.bounded  # strict mode: the portable schema
    assert llm_planning_enabled(
        Settings(_env_file=None, planner="auto", supervisor_llm={"base_url": "http://big-model:9000/v1"})
    )
    # the profile decides, not the endpoint: a small model elsewhere is told basic, and rules plan
    assert not llm_planning_enabled(
        Settings(
            _env_file=None, planner="auto", supervisor_llm={"base_url": "http://small:9000/v1", "capability": "basic"}
        )
    )
