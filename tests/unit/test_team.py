"""The supervisor graph against fake agents over real HTTP."""

import threading
import time
from contextlib import ExitStack, asynccontextmanager

import pytest

from config.settings import Settings
from orchestration.circuit import Circuit
from orchestration.http import make_session
from orchestration.protocol import AgentCallError, EventType, Source, TaskClient, TaskRequest
from orchestration.team import Team
from tests.helpers import ServerThread
from tests.unit.fake_agents import FakeAgent

BOTH = "research what the docs say about redis and compute the growth rate from 100 to 125"


@asynccontextmanager
async def team_over(agents: dict[str, FakeAgent], attempts: int = 2, **settings_overrides):
    """One Team over the fake agents served on real HTTP, as one supervisor process holds it."""
    with ExitStack() as stack:
        servers = {name: stack.enter_context(ServerThread(agent.app())) for name, agent in agents.items()}
        settings = Settings(
            _env_file=None, planner="rules", **{f"{n}_port": s.port for n, s in servers.items()}, **settings_overrides
        )
        async with make_session() as http:
            yield Team(settings, TaskClient(http, attempts=attempts), planner_llm=None)


async def run_requests(
    agents: dict[str, FakeAgent], instructions: list[str], stream: bool = False, **settings_overrides
):
    """Each request through one Team, as one supervisor process serves them; (events, result) each."""
    outcomes = []
    async with team_over(agents, **settings_overrides) as team:
        for instruction in instructions:
            events = [e async for e in team.events(TaskRequest(instruction=instruction, stream=stream))]
            outcomes.append((events, events[-1].data))
    return outcomes


async def run_team(agents: dict[str, FakeAgent], instruction: str, stream: bool = False, **settings_overrides):
    return (await run_requests(agents, [instruction], stream, **settings_overrides))[0]


async def test_independent_agents_run_concurrently():
    timeline: list[tuple[str, str]] = []
    both = threading.Barrier(2)  # each worker finishes only once the other has started
    agents = {
        "researcher": FakeAgent("researcher", timeline=timeline, meet=both),
        "analyst": FakeAgent("analyst", timeline=timeline, meet=both),
        "writer": FakeAgent("writer", output="final answer", timeline=timeline),
    }
    _, result = await run_team(agents, BOTH)
    assert [run.agent for run in result.trace] == ["researcher", "analyst", "writer"]
    # overlap, not timing: both workers started before either finished, and the writer came last
    assert [kind for kind, _ in timeline] == ["start", "start", "end", "end", "start", "end"], timeline
    assert timeline[-2:] == [("start", "writer"), ("end", "writer")]
    assert all(run.status == "ok" for run in result.trace), result.trace


async def test_writer_tokens_stream_and_join_to_the_result():
    agents = {
        "researcher": FakeAgent("researcher"),
        "analyst": FakeAgent("analyst"),
        "writer": FakeAgent("writer", output="one two three"),
    }
    events, result = await run_team(agents, BOTH, stream=True)
    tokens = [e.data.delta for e in events if e.type is EventType.token]
    assert len(tokens) == 3
    assert "".join(tokens) == result.output


async def test_an_answer_nobody_streams_is_asked_for_whole():
    writer = FakeAgent("writer", output="one two three")
    events, result = await run_team(
        {"researcher": FakeAgent("researcher"), "analyst": FakeAgent("analyst"), "writer": writer}, BOTH, stream=False
    )
    assert not any(e.type is EventType.token for e in events)
    assert writer.calls[0].stream is False and result.output == "one two three"


async def test_review_rounds_are_bounded_and_counted_per_request():
    # The analyst runs beside the researcher, finds no figures, and review sends it back.
    def team():
        return {
            "researcher": FakeAgent("researcher", output="revenue was 100 then 125"),
            "analyst": FakeAgent("analyst", data={"needs_data": True}),
            "writer": FakeAgent("writer"),
        }

    capped = team()
    [(_, result)] = await run_requests(capped, [BOTH], max_iterations=1)
    assert result.iterations == 1 and len(capped["analyst"].calls) == 1  # the bound stops round 2

    looping = team()
    outcomes = await run_requests(looping, [BOTH, BOTH, BOTH], max_iterations=2)
    # every request gets its own two rounds: nothing is carried over from earlier turns
    assert [result.iterations for _, result in outcomes] == [2, 2, 2]
    assert len(looping["analyst"].calls) == 6 and len(looping["researcher"].calls) == 3


async def test_second_round_gives_the_analyst_the_researchers_findings():
    agents = {
        "researcher": FakeAgent("researcher", output="sales rose from 80 to 100"),
        "analyst": FakeAgent("analyst", data={"needs_data": True}),
        "writer": FakeAgent("writer"),
    }
    await run_team(agents, BOTH, max_iterations=2)
    first, second = agents["analyst"].calls
    assert first.findings == []
    assert "researcher" in [f.agent for f in second.findings]


async def test_a_failing_agent_is_not_called_again_and_the_answer_still_comes():
    # a 500 may come after the work ran: nothing repeats it (retries are only for calls that never
    # reached the agent, in the TaskClient)
    agents = {
        "researcher": FakeAgent("researcher"),
        "analyst": FakeAgent("analyst", fail_with=500),
        "writer": FakeAgent("writer", output="answer without figures"),
    }
    _, result = await run_team(agents, BOTH)
    analyst = next(r for r in result.trace if r.agent == "analyst")
    assert analyst.status == "failed" and "500" in analyst.error
    assert len(agents["analyst"].calls) == 1
    assert result.status == "degraded"
    told = agents["writer"].calls[0].findings
    assert any(f.agent == "analyst" and f.status == "failed" for f in told)
    assert result.output.strip() == "answer without figures"


async def test_an_agent_that_keeps_failing_is_skipped_while_its_circuit_is_open():
    agents = {
        "researcher": FakeAgent("researcher"),
        "analyst": FakeAgent("analyst", fail_with=500),
        "writer": FakeAgent("writer", output="answer"),
    }
    outcomes = await run_requests(agents, [BOTH] * 4, circuit_breaker_failures=2, circuit_breaker_cooldown_seconds=600)
    assert len(agents["analyst"].calls) == 2  # the third and fourth requests did not call it
    skipped = next(r for r in outcomes[2][1].trace if r.agent == "analyst")
    assert skipped.status == "failed" and skipped.error.startswith("skipped: its circuit is open")
    assert all(result.output.strip() == "answer" for _, result in outcomes)
    assert len(agents["researcher"].calls) == 4  # the others are unaffected


async def test_a_stalled_worker_leaves_the_writer_time_to_answer():
    agents = {
        "researcher": FakeAgent("researcher", delay=30),
        "analyst": FakeAgent("analyst"),
        "writer": FakeAgent("writer", output="answer from what was found"),
    }
    async with team_over(agents) as team:
        task = TaskRequest(instruction=BOTH, deadline=time.time() + 3)
        events = [e async for e in team.events(task)]
    result = events[-1].data
    researcher = next(r for r in result.trace if r.agent == "researcher")
    assert researcher.status == "failed" and "deadline" in researcher.error
    assert next(r for r in result.trace if r.agent == "writer").status == "ok"
    assert result.output.strip() == "answer from what was found"
    # the researcher was told a deadline before the request's own, so it could give up first
    assert agents["researcher"].calls[0].deadline < task.deadline


PASSAGE = Source(
    ref=1,
    title="Conversations",
    location="conversations.md#storage",
    snippet="Redis records the growth rate of every conversation.",
)
GROWTH = {"computations": [{"display": "growth from 100 to 125 = 25%"}]}


def found_something() -> dict[str, FakeAgent]:
    return {
        "researcher": FakeAgent("researcher", output="a summary", sources=[PASSAGE]),
        "analyst": FakeAgent("analyst", data=GROWTH),
    }


@pytest.mark.parametrize("stream", [False, True])
async def test_a_dead_writer_leaves_an_answer_made_from_the_findings_with_no_internal_text(stream):
    agents = {**found_something(), "writer": FakeAgent("writer", fail_with=500)}
    events, result = await run_team(agents, BOTH, stream=stream)
    assert result.status == "degraded"
    assert result.output.startswith("Growth from 100 to 125 = 25%.")  # the figure leads, as computed
    assert "“Redis records the growth rate of every conversation.” [1]" in result.output
    assert "Sources: [1] conversations.md#storage" in result.output
    assert "http" not in result.output and "scripted failure" not in result.output  # the error: in the trace
    assert "scripted failure" in next(r for r in result.trace if r.agent == "writer").error
    if stream:
        assert "".join(e.data.delta for e in events if e.type is EventType.token) == result.output


@pytest.mark.parametrize(("fail_with", "kind"), [(500, "agent_error"), (504, "deadline_exceeded")])
async def test_a_dead_writer_with_nothing_found_ends_in_an_error_not_an_answer(fail_with, kind):
    agents = {
        "researcher": FakeAgent("researcher"),
        "analyst": FakeAgent("analyst"),
        "writer": FakeAgent("writer", fail_with=fail_with),
    }
    events, _ = await run_team(agents, "hi!", stream=True)
    assert events[-1].type is EventType.error and events[-1].data.type == kind
    assert not any(e.type in (EventType.token, EventType.result) for e in events)
    async with team_over(agents, attempts=1) as team:  # nobody streams: the same failure, raised
        with pytest.raises(AgentCallError) as raised:
            await team.result(TaskRequest(instruction="hi!"))
    assert raised.value.deadline == (kind == "deadline_exceeded")


async def test_a_structured_request_whose_writer_failed_gets_the_error_not_prose_from_the_findings():
    # JSON or a function call cannot be made from findings: the client hears the real cause (a 503 or
    # 504), not an invalid_structured_output blamed on a reply that never came
    agents = {**found_something(), "writer": FakeAgent("writer", fail_with=502, fail_type="llm_unavailable")}
    async with team_over(agents, attempts=1) as team:
        task = TaskRequest(instruction=BOTH, stream=True, response_format={"type": "json_object"})
        events = [e async for e in team.events(task)]
    assert events[-1].type is EventType.error and events[-1].data.type == "llm_unavailable"
    assert not any(e.type is EventType.token for e in events)


async def test_only_a_broken_writer_opens_its_circuit_not_a_busy_one_or_a_failing_llm():
    for fail_with, kind, opens in (
        (504, "deadline_exceeded", False),
        (502, "llm_unavailable", False),
        (429, "llm_busy", False),
        (500, "agent_error", True),
    ):
        writer = FakeAgent("writer", fail_with=fail_with, fail_type=kind)
        outcomes = await run_requests(
            {**found_something(), "writer": writer},
            [BOTH] * 3,
            circuit_breaker_failures=2,
            circuit_breaker_cooldown_seconds=600,
        )
        assert len(writer.calls) == (2 if opens else 3), kind
        assert all(result.output.startswith("Growth from 100 to 125") for _, result in outcomes)


def test_a_half_open_circuit_lets_exactly_one_call_through():
    circuit = Circuit(failures_to_open=1, cooldown_seconds=10)
    circuit.record(False, now=100.0)
    assert not circuit.allows(now=105.0)  # open
    assert circuit.allows(now=111.0) and not circuit.allows(now=111.5)  # half-open: one test call
    circuit.release()  # that call's deadline passed: it proved nothing, the next may test
    assert circuit.allows(now=112.0)
    circuit.record(True)
    assert circuit.allows() and circuit.allows()  # closed


async def test_small_talk_takes_the_fast_path():
    agents = {
        "researcher": FakeAgent("researcher"),
        "analyst": FakeAgent("analyst"),
        "writer": FakeAgent("writer", output="hello"),
    }
    _, result = await run_team(agents, "hi!")
    assert [r.agent for r in result.trace] == ["writer"]
    assert not agents["researcher"].calls and not agents["analyst"].calls
