"""The supervisor: a LangGraph StateGraph that plans, delegates, reviews and has the writer answer.

    plan ──► delegate ──► write
      │       ▲    │
      │       └────┘  another round when the review of a round asks for one (at most
      │               MAX_ITERATIONS per request)
      └─────────────► write   (fast path: small talk and plain writing)

The review ends each delegate round rather than being a node of its own: a node costs a LangGraph
step, on every request, for a decision made from the state in hand. For
the same reason plan and delegate name the next node in the `Command` they return, rather than
through a routing function that LangGraph would run as one more runnable after them.

Nodes report progress through LangGraph's custom stream as protocol `TaskEvent`s, so the writer's
tokens reach the caller as they are generated.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import time
from collections.abc import AsyncGenerator
from typing import Annotated, TypedDict

from langchain_openai import ChatOpenAI
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from agents.findings_answer import answer_from_findings
from agents.understanding import planning
from config import Settings
from config.team import Roster
from orchestration.circuit import Circuits
from orchestration.members import ask_member
from orchestration.merged import awaited_in_own_task, merged
from orchestration.metrics import AGENT_CALLS, AGENT_LATENCY, AGENT_TOKENS, CIRCUIT_OPEN
from orchestration.planner import Plan, plan_for_team
from orchestration.protocol import (
    AgentCallError,
    AgentName,
    AgentRun,
    ErrorInfo,
    EventType,
    Finding,
    MemberName,
    Step,
    StepStarted,
    TaskClient,
    TaskEvent,
    TaskRequest,
    TaskResult,
    TaskStream,
    Token,
    Usage,
    new_id,
    pieces,
    token,
)

log = logging.getLogger("chorus.team")

# Workers (researcher, analyst) get at most this share of the time left, so the writer always has
# time to answer with what the others found.
WORKER_SHARE = 0.5
FINDINGS_ORDER: tuple[AgentName, ...] = ("researcher", "analyst")


def _merge(old: dict[str, Finding], new: dict[str, Finding]) -> dict[str, Finding]:
    return {**old, **new}


class TeamState(TypedDict, total=False):
    task: TaskRequest
    plan: Plan
    pending: list[MemberName]  # the agents of the next delegate round
    findings: Annotated[dict[str, Finding], _merge]
    trace: Annotated[list[AgentRun], operator.add]
    steps: Annotated[list[Step], operator.add]
    llm_ms: Annotated[float, operator.add]  # waiting on LLMs, on the critical path
    iteration: int
    started: float  # perf_counter when the team began, so each run's start is an offset from it
    result: TaskResult
    failure: ErrorInfo  # instead of a result: why the team could not answer


class Team:
    def __init__(
        self, settings: Settings, client: TaskClient, planner_llm: ChatOpenAI | None, roster: Roster | None = None
    ):
        self.settings = settings
        self.client = client
        self.roster = roster or settings.team()
        self.members = {m.name: m for m in self.roster.members}
        self.planning = planning(settings, planner_llm, self.roster)
        self.circuits = Circuits(
            tuple(self.members), settings.circuit_breaker_failures, settings.circuit_breaker_cooldown_seconds
        )
        self.graph = self._build()

    def _build(self):
        graph = StateGraph(TeamState)
        graph.add_node("plan", self.plan, destinations=("delegate", "write"))
        graph.add_node("delegate", self.delegate, destinations=("delegate", "write"))
        graph.add_node("write", self.write)
        graph.add_edge(START, "plan")
        graph.add_edge("write", END)
        return graph.compile()

    async def events(self, task: TaskRequest) -> AsyncGenerator[TaskEvent, None]:
        """Run the graph for one request; its events as they happen, then the result."""
        # Only the custom stream (no step copies the whole state out): the write node emits the
        # result, which goes last, once the graph has ended.
        result: TaskEvent | None = None
        # In a task of its own (see orchestration.merged): LangGraph closing a run awaits its node
        # tasks, and a cancel scope would cut those awaits short, leaving the agents' calls running.
        async for _, event in merged([self.graph.astream(_initial(task), stream_mode="custom")]):
            if isinstance(event.data, TaskResult):
                result = event
            else:
                yield event
        if result is not None:
            yield result

    async def result(self, task: TaskRequest) -> TaskResult:
        """Run the graph for a request nobody streams: no events, only the result (or the error the
        write step emitted instead of one)."""
        state = await awaited_in_own_task(self.graph.ainvoke(_initial(task)))
        if "result" not in state:
            raise AgentCallError.of(state.get("failure") or ErrorInfo(message="the team gave no answer"))
        return state["result"]

    # --- nodes ------------------------------------------------------------------------------
    async def plan(self, state: TeamState) -> Command:
        emit = get_stream_writer()
        emit(TaskEvent(type=EventType.step_started, data=StepStarted(agent="supervisor", name="plan")))
        t0 = time.perf_counter()
        task = state["task"]
        earlier = [m.content for m in task.messages if m.role == "user"]
        try:
            async with asyncio.timeout(max(task.seconds_left() * WORKER_SHARE, 0.001)):
                plan = await self.planning.plan(task.instruction, earlier)
        except TimeoutError:  # an LLM planner too slow for the deadline: the rules decide
            plan = plan_for_team(task.instruction, earlier, self.roster).model_copy(
                update={"fallback": "the model was too slow"}
            )
        step = Step(
            agent="supervisor",
            name="plan",
            duration_ms=_ms(t0),
            agents=list(plan.team),
            detail=f"{_how(plan)}: {plan.kind} -> {', '.join(plan.team)}",
        )
        emit(TaskEvent(type=EventType.step_finished, data=step))
        return _then(
            {
                "plan": plan,
                "pending": list(plan.agents),
                "steps": [step],
                "llm_ms": step.duration_ms if self.planning.model else 0.0,
            }
        )

    async def delegate(self, state: TeamState) -> Command:
        iteration = state["iteration"] + 1
        known = _ordered(state["findings"])
        outcomes = await asyncio.gather(
            *(self._call_worker(agent, state["task"], known, iteration, state["started"]) for agent in state["pending"])
        )
        findings: dict[str, Finding] = {finding.agent: finding for finding, _, _ in outcomes}
        trace = [run for _, run, _ in outcomes]
        return _then(
            {
                "findings": findings,
                "trace": trace,
                "steps": [step for _, _, step in outcomes],
                "llm_ms": max((run.llm_ms for _, run, _ in outcomes), default=0.0),  # the workers run side by side
                "iteration": iteration,
                "pending": self.review({**state["findings"], **findings}, [*state["trace"], *trace], iteration),
            }
        )

    def review(self, findings: dict[str, Finding], trace: list[AgentRun], iteration: int) -> list[AgentName]:
        """The agents to send back, when a round left something an agent can now do better."""
        if iteration >= self.settings.max_iterations:
            return []
        last_round = _last_runs(trace)
        again: list[AgentName] = []
        analyst, researcher = findings.get("analyst"), findings.get("researcher")
        if (
            analyst
            and researcher
            and analyst.status == "ok"
            and researcher.status == "ok"
            and analyst.data.get("needs_data")
            and last_round["analyst"].iteration == last_round["researcher"].iteration
            and any(ch.isdigit() for ch in researcher.output)
        ):
            again.append("analyst")  # it ran beside the researcher; now it can use its figures
        return again

    async def write(self, state: TeamState) -> dict:
        emit = get_stream_writer()
        task = state["task"]
        findings = _ordered(state["findings"])
        subtask = task.model_copy(update={"task_id": new_id("task"), "findings": findings})
        parts: list[str] = []
        result: TaskResult | None = None
        failure: AgentCallError | None = None
        t0 = time.perf_counter()
        circuit = self.circuits["writer"]
        if not circuit.allows():
            failure = AgentCallError(
                f"skipped: its circuit is {circuit.state()}", retry_after=circuit.seconds_closed_in()
            )
        else:
            try:
                if task.stream:
                    result = await self._stream_writer(subtask, parts, emit)
                else:  # nobody reads the answer as it is written: it comes whole, in one response
                    result = await self.client.run(self.settings.agent_url("writer"), subtask)
            except TimeoutError:
                failure = AgentCallError("timed out at the request's deadline", deadline=True)
            except AgentCallError as error:
                failure = error
            self._record("writer", result is not None, t0, result.usage if result else None, failure)
        problem = str(failure) if failure else None
        # JSON or a function call cannot be made from findings: a structured request gets the error
        structured = bool(task.response_format or task.tools)
        answer = "" if result or parts or structured else answer_from_findings(task.instruction, findings)
        if result is None and not answer:
            # Nothing to answer with, or the answer broke off mid-way: a clean error (a 503 or a 504
            # for the client), never the error as the answer's text; the turn is not stored.
            log.warning("the writer failed and the team has nothing to answer with: %s", problem)
            info = ErrorInfo.of(failure or AgentCallError("no answer"), "supervisor")
            emit(TaskEvent(type=EventType.error, data=info))
            run = AgentRun(
                agent="writer",
                status="failed",
                started_ms=_offset(t0, state["started"]),
                duration_ms=_ms(t0),
                iteration=state["iteration"] + 1,
                error=problem,
            )
            return {"trace": [run], "failure": info}
        if result is None:
            # The writer failed, but the team found something: the answer is made from it, without
            # a model, and marked degraded; why the writer failed is in the trace, not the text.
            for piece in pieces(answer):
                parts.append(piece)
                emit(token(piece, "supervisor"))
        run = AgentRun(
            agent="writer",
            status="ok" if result else "failed",
            started_ms=_offset(t0, state["started"]),
            duration_ms=_ms(t0),
            usage=result.usage if result else Usage(),
            llm_ms=result.llm_ms if result else 0.0,
            iteration=state["iteration"] + 1,
            error=None if result else problem,
            profile=result.profile if result else "",
        )
        trace = [*state["trace"], run]
        output = result.output if result else "".join(parts)
        final = TaskResult(
            task_id=task.task_id,
            agent="supervisor",
            status="completed" if all(r.status == "ok" for r in _last_runs(trace).values()) else "degraded",
            output=output,
            data={
                "plan": state["plan"].model_dump() | {"planned_by": _how(state["plan"])},
                "computations": [c for f in findings for c in f.data.get("computations", [])],
                "refusals": [r for f in findings for r in f.data.get("refusals", [])],
                "grounding": (result.data.get("grounding") if result else None)
                or "not checked: the writer did not answer",
            },
            sources=[s for f in findings for s in f.sources],
            usage=sum((r.usage for r in trace), Usage()),
            duration_ms=0.0,  # set by the task route, which sees the whole request
            llm_ms=round(state["llm_ms"] + run.llm_ms, 1),
            steps=[*state["steps"], *(result.steps if result else [])],
            trace=trace,
            iterations=state["iteration"],
            finish_reason=result.finish_reason if result else "stop",
            tool_calls=result.tool_calls if result else [],
            choices=result.choices if result else [],
        )
        emit(TaskEvent(type=EventType.result, data=final))
        return {"trace": [run], "result": final}

    # --- helpers ----------------------------------------------------------------------------
    async def _stream_writer(self, subtask: TaskRequest, parts: list[str], emit) -> TaskResult | None:
        """The writer's events passed on as they come; its text so far kept in `parts`."""
        stream = TaskStream(self.client.stream(self.settings.agent_url("writer"), subtask))
        try:
            async with asyncio.timeout(max(subtask.seconds_left(), 0.001)):
                async for event in stream:
                    if isinstance(event.data, Token):
                        parts.append(event.data.delta)
                    emit(event)
                return stream.result
        finally:  # closed now, not when collected: a cancelled request stops the writer at once
            await stream.aclose()

    async def _call_worker(
        self, agent: MemberName, task: TaskRequest, known: list[Finding], iteration: int, started: float
    ) -> tuple[Finding, AgentRun, Step]:
        """The worker's finding, its run for the trace, and its step (whose detail is the progress
        a client sees)."""
        emit = get_stream_writer()
        budget = max(task.seconds_left() * WORKER_SHARE, 0.001)
        subtask = task.model_copy(
            update={"task_id": new_id("task"), "findings": known, "deadline": time.time() + budget}
        )
        t0 = time.perf_counter()
        circuit = self.circuits[agent]
        if not circuit.allows():
            error = f"skipped: its circuit is {circuit.state()}"
            step = Step(agent=agent, name="task", status="skipped", detail=error)
            emit(TaskEvent(type=EventType.step_finished, data=step))
            AGENT_CALLS.labels(agent, "skipped").inc()
            return *_failed(agent, error, t0, iteration, started), step
        emit(TaskEvent(type=EventType.step_started, data=StepStarted(agent=agent, name="task")))
        try:
            async with asyncio.timeout(budget):
                result = await self._run(agent, subtask)
        except (AgentCallError, TimeoutError) as failure:
            error = _describe(failure)
            self._record(agent, False, t0, failure=failure)
            step = Step(agent=agent, name="task", status="failed", duration_ms=_ms(t0), detail=error)
            emit(TaskEvent(type=EventType.step_finished, data=step))
            return *_failed(agent, error, t0, iteration, started), step
        self._record(agent, True, t0, result.usage)
        step = Step(agent=agent, name="task", duration_ms=_ms(t0), detail=found(agent, result))
        emit(TaskEvent(type=EventType.step_finished, data=step))
        finding = Finding(agent=agent, status="ok", output=result.output, data=result.data, sources=result.sources)
        return (
            finding,
            AgentRun(
                agent=agent,
                status="ok",
                started_ms=_offset(t0, started),
                duration_ms=_ms(t0),
                usage=result.usage,
                llm_ms=result.llm_ms,
                iteration=iteration,
                profile=result.profile,
                understood_by=str(result.data.get("understood_by", "")),
            ),
            step,
        )

    async def _run(self, agent: str, task: TaskRequest) -> TaskResult:
        """One worker's task: a Chorus agent over the task protocol, or a member over its own."""
        member = self.members[agent]
        if member.protocol == "openai":
            return await ask_member(self.client.session, member, task)
        return await self.client.run(member.url or self.settings.agent_url(agent), task)

    def _record(
        self,
        agent: MemberName,
        ok: bool,
        since: float,
        usage: Usage | None = None,
        failure: BaseException | None = None,
    ) -> None:
        """The call's outcome: into the agent's circuit and the metrics. Only a failure that shows the
        agent broken counts against its circuit; a passed deadline (busy) or a failing LLM does not."""
        circuit = self.circuits[agent]
        if ok or (isinstance(failure, AgentCallError) and failure.shows_broken):
            circuit.record(ok)
        else:
            circuit.release()
        CIRCUIT_OPEN.labels(agent).set(0 if circuit.opened_at is None else 1)
        AGENT_CALLS.labels(agent, "ok" if ok else "failed").inc()
        AGENT_LATENCY.labels(agent).observe(time.perf_counter() - since)
        if usage:
            AGENT_TOKENS.labels(agent, "prompt").inc(usage.prompt_tokens)
            AGENT_TOKENS.labels(agent, "completion").inc(usage.completion_tokens)


def found(agent: MemberName, result: TaskResult) -> str:
    """What a worker found, in a few words: the passages' files, or the computed figures."""
    if agent not in ("researcher", "analyst"):  # a member of the team file: its answer is its finding
        return "answered"
    if agent == "researcher":
        files = list(dict.fromkeys(s.location.split("#")[0].rsplit("/", 1)[-1] for s in result.sources))
        if not files:
            return "nothing relevant in the knowledge base"
        count = len(result.sources)
        return f"{count} passage{'s' if count != 1 else ''} from {_listed(files)}"
    figures = [item["display"] for key in ("computations", "refusals") for item in result.data.get(key, [])]
    if not figures:
        return "no figures to compute"
    return "; ".join(figures[:3]) + ("; and more" if len(figures) > 3 else "")


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _initial(task: TaskRequest) -> TeamState:
    return {
        "task": task,
        "findings": {},
        "trace": [],
        "steps": [],
        "llm_ms": 0.0,
        "iteration": 0,
        "started": time.perf_counter(),
    }


def _failed(agent: MemberName, error: str, since: float, iteration: int, started: float) -> tuple[Finding, AgentRun]:
    return (
        Finding(agent=agent, status="failed", error=error),
        AgentRun(
            agent=agent,
            status="failed",
            started_ms=_offset(since, started),
            duration_ms=_ms(since),
            iteration=iteration,
            error=error,
        ),
    )


def _then(update: dict) -> Command:
    """The node's update, and the next node: another delegate round while agents are pending."""
    return Command(update=update, goto="delegate" if update["pending"] else "write")


def _ordered(findings: dict[str, Finding]) -> list[Finding]:
    """The built-in workers' findings first, then the members', their sources numbered on from the
    researcher's (a member's text cites none of its own numbers, so only its sources are renumbered)."""
    ordered = [findings[name] for name in FINDINGS_ORDER if name in findings]
    ordered += [finding for name, finding in findings.items() if name not in FINDINGS_ORDER]
    numbered, at = [], 0
    for finding in ordered:
        if finding.agent in FINDINGS_ORDER:
            at = max([at, *(s.ref for s in finding.sources)])
        elif finding.sources:
            sources = [s.model_copy(update={"ref": at + n}) for n, s in enumerate(finding.sources, start=1)]
            finding = finding.model_copy(update={"sources": sources})
            at += len(sources)
        numbered.append(finding)
    return numbered


def _how(plan: Plan) -> str:
    """Who planned: "llm", "rules", or "rules (fell back: why the model's plan was not used)"."""
    return f"{plan.planner} (fell back: {plan.fallback})" if plan.fallback else plan.planner


def _last_runs(trace: list[AgentRun]) -> dict[str, AgentRun]:
    return {run.agent: run for run in trace}  # later runs of an agent replace earlier ones


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out at the request's deadline"
    return str(error) or type(error).__name__


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def _offset(at: float, started: float) -> float:
    return round((at - started) * 1000, 1)
