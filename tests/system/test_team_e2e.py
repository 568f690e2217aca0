"""The team on the real processes with the real local model."""

import json
import os
import signal
import time
import uuid

import httpx
import pytest

# The tests whose point is the model: the whole module on the embedded model, in the worker that runs it.
pytestmark = pytest.mark.xdist_group("embedded")


@pytest.fixture(scope="module")
def stack(embedded_stack):
    return embedded_stack


RESEARCH_AND_COMPUTE = (
    "Research what the knowledge base says about conversation storage in Redis and compute the "
    "growth rate from 120 to 150."
)


def post_task(stack, instruction, **extra):
    body = {"instruction": instruction, "request_id": f"req-{uuid.uuid4().hex[:12]}", **extra}
    return body["request_id"], httpx.post(
        stack.url("supervisor") + "/v1/tasks", json=body, timeout=120, headers=stack.internal
    )


def stream_task(stack, instruction, on_event=None):
    body = {"instruction": instruction, "stream": True}
    events = []
    with httpx.stream(
        "POST", stack.url("supervisor") + "/v1/tasks", json=body, timeout=120, headers=stack.internal
    ) as response:
        assert response.status_code == 200
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((kind, json.loads(line.split(":", 1)[1]), time.monotonic()))
                if on_event:
                    on_event(kind, events[-1][1])
    return events


def logged_lines(stack, name: str, request_id: str, patience: float = 30) -> list[dict]:
    """The JSON log lines of one request; supervisord copies a process's output to its file a moment
    after it is written, so this waits for the task's "done" line (a hang guard, not a time bound)."""
    give_up = time.monotonic() + patience
    while True:
        lines = [json.loads(line) for line in stack.log(name).splitlines() if line.startswith("{")]
        mine = [line for line in lines if line["request_id"] == request_id]
        if any(line["message"].endswith(" done") for line in mine) or time.monotonic() > give_up:
            return mine
        time.sleep(0.1)


def test_research_and_compute_delegates_cites_and_computes(stack):
    request_id, response = post_task(stack, RESEARCH_AND_COMPUTE)
    assert response.status_code == 200
    result = response.json()
    assert [run["agent"] for run in result["trace"]] == ["researcher", "analyst", "writer"]
    assert all(run["status"] == "ok" for run in result["trace"])
    # the computed number is right, and it came from computation
    growth = next(c for c in result["data"]["computations"] if c["label"].startswith("growth"))
    assert growth["value"] == pytest.approx(25.0)
    assert "25%" in result["output"]
    # sources from docs/ are cited in the answer
    assert result["sources"] and result["sources"][0]["location"].split("#")[0].endswith(".md")
    assert "Sources: [1] " in result["output"] and result["sources"][0]["location"] in result["output"]
    # every agent's own log shows the call, under the same request id, in JSON lines that name the
    # agent and time the task
    for name in ("supervisor", "researcher", "analyst", "writer"):
        mine = logged_lines(stack, name, request_id)
        assert mine, name
        assert {"time", "level", "process", "conversation_id", "agent", "duration_ms"} <= set(mine[0]), name
        done = next(line for line in mine if line["message"].endswith(" done"))
        assert done["duration_ms"] > 0 and done["process"] == name
        if name != "supervisor":
            assert done["agent"] == name


def test_stream_tokens_arrive_before_the_writer_finishes_and_join_to_the_result(stack):
    events = stream_task(stack, RESEARCH_AND_COMPUTE)
    kinds = [kind for kind, _, _ in events]
    first_token = kinds.index("token")
    writer_done = next(
        i
        for i, (kind, data, _) in enumerate(events)
        if kind == "step_finished" and data["agent"] == "writer" and data["name"] == "llm"
    )
    assert first_token < writer_done
    tokens = [data["delta"] for kind, data, _ in events if kind == "token"]
    assert len(tokens) >= 2  # the computed lead at once, then the checked sentences and the sources
    result = events[-1][1]
    assert kinds[-1] == "result"
    assert "".join(tokens) == result["output"]


def test_small_talk_takes_the_fast_path_to_the_writer(stack):
    events = stream_task(stack, "hello!")
    kinds = [(kind, data.get("agent"), data.get("name")) for kind, data, _ in events]
    result = events[-1][1]
    assert [run["agent"] for run in result["trace"]] == ["writer"]
    # no worker was called, and the first token came while the writer was still generating
    assert not any(agent in ("researcher", "analyst") for _, agent, _ in kinds)
    assert kinds.index(("token", "writer", None)) < kinds.index(("step_finished", "writer", "llm"))


def test_a_dead_analyst_degrades_the_answer(stack):
    # The analyst answers in milliseconds now (no LLM call), so no client can kill it mid-request
    # reliably: it is killed before the request, and supervisord is told to keep it down.
    pid = stack.pid("analyst")
    stack.rpc().stopProcess("analyst", False)
    os.kill(pid, signal.SIGKILL)
    try:
        events = stream_task(stack, RESEARCH_AND_COMPUTE)
    finally:
        stack.rpc().startProcess("analyst")
        stack.wait_ready("analyst")  # back for the tests after this one
    result = events[-1][1]
    assert events[-1][0] == "result"
    analyst = next(run for run in result["trace"] if run["agent"] == "analyst")
    assert analyst["status"] == "failed" and analyst["error"]
    assert result["status"] == "degraded"
    assert next(r for r in result["trace"] if r["agent"] == "writer")["status"] == "ok"
    assert result["output"].strip() and "Not available for this answer: the analyst." in result["output"]
    assert "127.0.0.1" not in result["output"] and "Connect" not in result["output"]  # why: in the trace


def test_bad_task_is_a_422_not_a_200_with_an_error_inside(stack):
    response = httpx.post(stack.url("supervisor") + "/v1/tasks", json={"nothing": 1}, headers=stack.internal)
    assert response.status_code == 422


def test_the_team_answers_only_holders_of_the_internal_token(stack):
    for agent in ("supervisor", "researcher", "analyst", "writer"):
        for headers in ({}, {"authorization": "Bearer wrong"}):
            refused = httpx.post(stack.url(agent) + "/v1/tasks", json={"instruction": "hi"}, headers=headers)
            assert refused.status_code == 401 and refused.json()["type"] == "unauthorized", agent
        assert httpx.get(stack.url(agent) + "/ready").status_code == 200  # health and readiness stay open
    token = stack.root / "run" / "internal_token"
    assert oct(token.stat().st_mode & 0o777) == "0o600"


# --- answers you can trust, through the gateway on the embedded model --------------------------
def test_research_and_compute_answer_has_one_percentage_and_relevant_sources(stack):
    from openai import OpenAI

    from agents.numbers import mentions

    client = OpenAI(base_url=stack.base_url, api_key="test", max_retries=0, timeout=120)
    reply = client.chat.completions.create(model="chorus", messages=[{"role": "user", "content": RESEARCH_AND_COMPUTE}])
    answer = reply.choices[0].message.content
    percentages = {m.value for m in mentions(answer) if m.percent}
    assert percentages == {25.0}, answer
    assert reply.metadata["agents_used"] == "researcher,analyst,writer"
    assert reply.metadata["grounding"].startswith("checked ")
    # every cited source is about what was asked: conversations kept in Redis
    sources_line = next(line for line in answer.splitlines() if line.startswith("Sources: "))
    locations = [part.split("] ", 1)[1] for part in sources_line.removeprefix("Sources: ").split("; ")]
    assert locations
    docs = stack_docs()
    for location in locations:
        path = location.partition("#")[0]
        section = docs[path].lower()
        assert "redis" in section or "conversation" in section, location


def stack_docs() -> dict[str, str]:
    from tests.helpers import ROOT

    return {p.name: p.read_text() for p in (ROOT / "docs").glob("*.md")}


def test_source_free_requests_cite_nothing(stack):
    from openai import OpenAI

    client = OpenAI(base_url=stack.base_url, api_key="test", max_retries=0, timeout=120)
    for request in ("Describe a rainy day.", "What is the capital of France?"):
        reply = client.chat.completions.create(model="chorus", messages=[{"role": "user", "content": request}])
        answer = reply.choices[0].message.content
        assert "Sources:" not in answer and "[1]" not in answer, answer
        assert "analyst" not in reply.metadata["agents_used"]


def test_follow_up_computes_from_the_conversation(stack):
    from openai import OpenAI

    client = OpenAI(base_url=stack.base_url, api_key="test", max_retries=0, timeout=120)
    conversation = f"conv-follow-{uuid.uuid4().hex[:8]}"
    first = client.chat.completions.create(
        model="chorus",
        messages=[{"role": "user", "content": "What is the growth from 120 to 150?"}],
        extra_body={"conversation_id": conversation},
    )
    assert "25%" in first.choices[0].message.content
    second = client.chat.completions.create(
        model="chorus",
        messages=[{"role": "user", "content": "and to 200?"}],
        extra_body={"conversation_id": conversation},
    )
    assert "Growth from 120 to 200 = 66.67%" in second.choices[0].message.content
    assert second.metadata["agents_used"] == "analyst,writer"


def test_hostile_expressions_are_refused_and_the_analyst_stays_healthy(stack):
    from concurrent.futures import ThreadPoolExecutor

    hostile = [
        "Compute (((9^99)^99)^99)^99",
        "What is 9**9**9**9?",
        "Compute " + "9" * 4000 + " * 7",
        "Calculate " + "(1+" * 150 + "1" + ")" * 150,
        "What is 10^99 * 10^99 * 10^99?",
    ] * 2

    def refuse(text):
        return httpx.post(
            stack.url("analyst") + "/v1/tasks", json={"instruction": text}, timeout=60, headers=stack.internal
        )

    def health():
        return httpx.get(stack.url("analyst") + "/health", timeout=5).status_code

    with ThreadPoolExecutor(8) as pool:
        refusals = [pool.submit(refuse, text) for text in hostile]
        checks = [pool.submit(health) for _ in range(20)]
        answers = [r.result() for r in refusals]
        statuses = [c.result() for c in checks]
    assert statuses == [200] * 20
    for text, answer in zip(hostile, answers):
        assert answer.status_code == 200
        assert answer.json()["output"].startswith("- Not computed:"), (text[:40], answer.json()["output"])
        assert answer.json()["data"]["refusals"][0]["reason"]
