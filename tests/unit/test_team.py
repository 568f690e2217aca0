"""The supervisor graph against fake agents over real HTTP."""

import threading
import time
from contextlib import ExitStack


from config.settings import Settings
from orchestration.http import make_session
from orchestration.protocol import EventType, TaskClient, TaskRequest
from orchestration.team import Team
from tests.helpers import ServerThread
from tests.unit.fake_agents import FakeAgent

BOTH = "research what the docs say about redis and compute the growth rate from 100 to 125"


async def run_requests(agents: dict[str, FakeAgent], instructions: list[str], stream: bool = False,
                       **settings_overrides):
    """Each request through one Team, as one supervisor process serves them; (events, result) each."""
    outcomes = []
    with ExitStack() as stack:
        servers = {name: stack.enter_context(ServerThread(agent.app())) for name, agent in agents.items()}
        settings = Settings(_env_file=None, planner="rules", **{f"{n}_port": s.port for n, s in servers.items()},
                            **settings_overrides)
        async with make_session() as http:
            team = Team(settings, TaskClient(http, attempts=2), planner_llm=None)
            for instruction in instructions:
                events = [e async for e in team.events(TaskRequest(instruction=instruction, stream=stream))]
                outcomes.append((events, events[-1].data))
    return outcomes


async def run_team(agents: dict[str, FakeAgent], instruction: str, stream: bool = False, **settings_overrides):
    return (await run_requests(agents, [instruction], stream, **settings_overrides))[0]


async def test_independent_agents_run_concurrently():
    timeline: list[tuple[str, str]] = []
    both = threading.Barrier(2)  # each worker finishes only once the other has started
    agents = {"researcher": FakeAgent("researcher", timeline=timeline, meet=both),
              "analyst": FakeAgent("analyst", timeline=timeline, meet=both),
              "writer": FakeAgent("writer", output="final answer", timeline=timeline)}
    events, result = await run_team(agents, BOTH)
    assert [run.agent for run in result.trace] == ["researcher", "analyst", "writer"]
    # overlap, not timing: both workers started before either finished, and the writer came last
    assert [kind for kind, _ in timeline] == ["start", "start", "end", "end", "start", "end"], timeline
    assert timeline[-2:] == [("start", "writer"), ("end", "writer")]
    assert all(run.status == "ok" for run in result.trace), result.trace


async def test_writer_tokens_stream_and_join_to_the_result():
    agents = {"researcher": FakeAgent("researcher"), "analyst": FakeAgent("analyst"),
              "writer": FakeAgent("writer", output="one two three")}
    events, result = await run_team(agents, BOTH, stream=True)
    tokens = [e.data.delta for e in events if e.type is EventType.token]
    assert len(tokens) == 3
    assert "".join(tokens) == result.output


async def test_an_answer_nobody_streams_is_asked_for_whole():
    writer = FakeAgent("writer", output="one two three")
    events, result = await run_team({"researcher": FakeAgent("researcher"), "analyst": FakeAgent("analyst"),
                                     "writer": writer}, BOTH, stream=False)
    assert not any(e.type is EventType.token for e in events)
    assert writer.calls[0].stream is False and result.output == "one two three"


async def test_review_rounds_are_bounded_and_counted_per_request():
    # The analyst runs beside the researcher, finds no figures, and review sends it back.
    def team():
        return {"researcher": FakeAgent("researcher", output="revenue was 100 then 125"),
                "analyst": FakeAgent("analyst", data={"needs_data": True}), "writer": FakeAgent("writer")}

    capped = team()
    [(_, result)] = await run_requests(capped, [BOTH], max_iterations=1)
    assert result.iterations == 1 and len(capped["analyst"].calls) == 1  # the bound stops round 2

    looping = team()
    outcomes = await run_requests(looping, [BOTH, BOTH, BOTH], max_iterations=2)
    # every request gets its own two rounds: nothing is carried over from earlier turns
    assert [result.iterations for _, result in outcomes] == [2, 2, 2]
    assert len(looping["analyst"].calls) == 6 and len(looping["researcher"].calls) == 3


async def test_second_round_gives_the_analyst_the_researchers_findings():
    agents = {"researcher": FakeAgent("researcher", output="sales rose from 80 to 100"),
              "analyst": FakeAgent("analyst", data={"needs_data": True}),
              "writer": FakeAgent("writer")}
    await run_team(agents, BOTH, max_iterations=3)
    first, second = agents["analyst"].calls
    assert first.findings == []
    assert "researcher" in [f.agent for f in second.findings]


async def test_a_failing_agent_is_not_called_again_and_the_answer_still_comes():
    # a 500 may come after the work ran: nothing repeats it (retries are only for calls that never
    # reached the agent, in the TaskClient)
    agents = {"researcher": FakeAgent("researcher"), "analyst": FakeAgent("analyst", fail_with=500),
              "writer": FakeAgent("writer", output="answer without figures")}
    _, result = await run_team(agents, BOTH)
    analyst = next(r for r in result.trace if r.agent == "analyst")
    assert analyst.status == "failed" and "500" in analyst.error
    assert len(agents["analyst"].calls) == 1
    assert result.status == "degraded"
    told = agents["writer"].calls[0].findings
    assert any(f.agent == "analyst" and f.status == "failed" for f in told)
    assert result.output.strip() == "answer without figures"


async def test_an_agent_that_keeps_failing_is_skipped_while_its_circuit_is_open():
    agents = {"researcher": FakeAgent("researcher"), "analyst": FakeAgent("analyst", fail_with=500),
              "writer": FakeAgent("writer", output="answer")}
    outcomes = await run_requests(agents, [BOTH] * 4, circuit_breaker_failures=2,
                                  circuit_breaker_cooldown_seconds=600)
    assert len(agents["analyst"].calls) == 2  # the third and fourth requests did not call it
    skipped = next(r for r in outcomes[2][1].trace if r.agent == "analyst")
    assert skipped.status == "failed" and skipped.error.startswith("skipped: its circuit is open")
    assert all(result.output.strip() == "answer" for _, result in outcomes)
    assert len(agents["researcher"].calls) == 4  # the others are unaffected


async def test_a_stalled_worker_leaves_the_writer_time_to_answer():
    agents = {"researcher": FakeAgent("researcher", delay=30), "analyst": FakeAgent("analyst"),
              "writer": FakeAgent("writer", output="answer from what was found")}
    with ExitStack() as stack:
        servers = {name: stack.enter_context(ServerThread(agent.app())) for name, agent in agents.items()}
        settings = Settings(_env_file=None, planner="rules", **{f"{n}_port": s.port for n, s in servers.items()})
        async with make_session() as http:
            team = Team(settings, TaskClient(http, attempts=2), planner_llm=None)
            task = TaskRequest(instruction=BOTH, deadline=time.time() + 3)
            events = [e async for e in team.events(task)]
    result = events[-1].data
    researcher = next(r for r in result.trace if r.agent == "researcher")
    assert researcher.status == "failed" and "deadline" in researcher.error
    assert next(r for r in result.trace if r.agent == "writer").status == "ok"
    assert result.output.strip() == "answer from what was found"
    # the researcher was told a deadline before the request's own, so it could give up first
    assert agents["researcher"].calls[0].deadline < task.deadline


async def test_dead_writer_still_yields_an_answer_from_the_findings():
    agents = {"researcher": FakeAgent("researcher", output="redis keeps conversations"),
              "analyst": FakeAgent("analyst", output="growth 25%"),
              "writer": FakeAgent("writer", fail_with=503)}
    events, result = await run_team(agents, BOTH)
    assert result.status == "degraded"
    assert "redis keeps conversations" in result.output and "growth 25%" in result.output
    assert "".join(e.data.delta for e in events if e.type is EventType.token) == result.output


async def test_small_talk_takes_the_fast_path():
    agents = {"researcher": FakeAgent("researcher"), "analyst": FakeAgent("analyst"),
              "writer": FakeAgent("writer", output="hello")}
    _, result = await run_team(agents, "hi!")
    assert [r.agent for r in result.trace] == ["writer"]
    assert not agents["researcher"].calls and not agents["analyst"].calls
