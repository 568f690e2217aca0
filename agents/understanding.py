"""The team's understanding steps, each with two implementations: rules, for the basic profile, and the
model, for the capable one. Which an agent runs is decided here, from its profile, and nowhere else.

| step         | basic: rules                                  | capable: the model, checked                        |
|--------------|-----------------------------------------------|----------------------------------------------------|
| plan         | the planner's rules                           | the model chooses the workers; rules if invalid    |
| computations | the word-problem reader                       | the model states them; the calculator evaluates    |
| search       | the clause that asks for facts                | the model's queries; rules if invalid              |
| writing      | composed from the findings; functions chosen  | the model's prose, with a `calculate` tool; the    |
|              | by word overlap and forced                    | client's tool_choice unforced                      |

A model step that fails (a malformed reply, an unreachable model) falls back to the rules, and says
so in `how`, which the trace shows.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from agents.calculation_process import CalculationProcess
from agents.stated import STATED_PROMPT, STATED_SCHEMA, evaluate_stated
from agents.structured import StructuredOutputError, choose_function, constrained_json, json_schema_format, portable
from agents.word_problems import Analysis
from config import Settings
from config.team import Roster
from orchestration.planner import (
    BUILT_IN_WORKERS,
    CLAUSE,
    RESEARCH,
    Plan,
    llm_planning_enabled,
    plan_by_llm,
    plan_for_team,
)
from orchestration.protocol import TaskRequest

log = logging.getLogger(__name__)
STATED_TOKENS = 600
QUERY_TOKENS = 150
MAX_QUERIES = 3
QUERIES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "queries": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_QUERIES,
            "items": {"type": "string", "maxLength": 200},
        }
    },
    "required": ["queries"],
    "additionalProperties": False,
}
QUERIES_PROMPT = (
    "You write search queries for a knowledge base searched by keywords. Rewrite the request's questions "
    "of fact as short keyword queries: one per distinct question (at most three), leaving out any "
    "arithmetic the request also asks for. Answer with JSON only."
)


T = TypeVar("T")


@dataclass
class Decided(Generic[T]):
    """What a step decided, and how: "rules", "model", or "rules (why the model's answer was not used)"."""

    value: T
    how: str
    waited: float = 0.0  # seconds spent waiting on the model


def fell_back(error: Exception) -> str:
    if isinstance(error, StructuredOutputError | ValueError):
        return f"rules (the model's reply was malformed: {error})"
    return f"rules (the model failed: {type(error).__name__})"


# --- plan (the supervisor) ------------------------------------------------------------------------
class Planning(Protocol):
    model: bool  # whether the step asks the model (then it takes a place in the LLM queue)

    async def plan(self, request: str, earlier: list[str]) -> Plan: ...


class RulesPlanning:
    model = False

    def __init__(self, roster: Roster):
        self.roster = roster

    async def plan(self, request: str, earlier: list[str]) -> Plan:
        return plan_for_team(request, earlier, self.roster)


class ModelPlanning:
    model = True

    def __init__(self, llm: ChatOpenAI, roster: Roster, bounded: bool = False):
        self.llm = llm
        self.roster = roster
        self.workers = {m.name: m.description or BUILT_IN_WORKERS.get(m.name, m.name) for m in roster.workers}
        self.bounded = bounded  # PLANNER=llm on a basic model: the grammar's bounds keep it from looping

    async def plan(self, request: str, earlier: list[str]) -> Plan:
        plan, problem = await plan_by_llm(request, self.llm, self.bounded, self.workers)
        if plan is not None:
            return plan
        return plan_for_team(request, earlier, self.roster).model_copy(update={"fallback": problem})


def planning(settings: Settings, llm: ChatOpenAI | None, roster: Roster | None = None) -> Planning:
    roster = roster or settings.team()
    if llm is None or not llm_planning_enabled(settings):
        return RulesPlanning(roster)
    return ModelPlanning(llm, roster, bounded=settings.profile("supervisor") == "basic")


# --- computations (the analyst) -------------------------------------------------------------------
@dataclass
class Inputs:
    """What a computation may take its figures from."""

    request: str
    history: list[str]
    passages: list[str]


class Computing(Protocol):
    model: bool

    async def analyse(
        self, task: TaskRequest, inputs: Inputs, calculations: CalculationProcess
    ) -> Decided[Analysis]: ...


class RulesComputing:
    model = False

    async def analyse(self, task: TaskRequest, inputs: Inputs, calculations: CalculationProcess) -> Decided[Analysis]:
        return Decided(await calculations.analyse(inputs.request, inputs.history, inputs.passages), "rules")


class ModelComputing:
    """The model states the computations; the calculator checks and evaluates them (stated.py)."""

    model = True

    def __init__(self, llm: ChatOpenAI):
        self.llm = llm

    async def analyse(self, task: TaskRequest, inputs: Inputs, calculations: CalculationProcess) -> Decided[Analysis]:
        prompt = f"Request: {inputs.request}"
        if inputs.history:
            prompt += "\n\nEarlier turns:\n" + "\n".join(f"- {h}" for h in inputs.history)
        if inputs.passages:
            prompt += "\n\nFindings:\n" + "\n\n".join(inputs.passages)
        started = time.perf_counter()
        try:
            reply = await constrained_json(
                self.llm,
                task,
                [SystemMessage(STATED_PROMPT), HumanMessage(prompt)],
                json_schema_format("computations", portable(STATED_SCHEMA)),
                STATED_SCHEMA,
                STATED_TOKENS,
            )
        except Exception as error:  # the model's failure must not stop the request: the rules read it
            log.info("the model's computations were not used (%s): the rules read the request", error)
            rules = await RulesComputing().analyse(task, inputs, calculations)
            return Decided(rules.value, fell_back(error), time.perf_counter() - started)
        waited = time.perf_counter() - started
        stated = json.loads(reply)["computations"]
        analysis = await calculations.run(evaluate_stated, stated, inputs.request, inputs.history, inputs.passages)
        return Decided(analysis, "model", waited)


def computing(settings: Settings, llm: ChatOpenAI | None) -> Computing:
    return ModelComputing(llm) if llm is not None and settings.profile("analyst") == "capable" else RulesComputing()


# --- search (the researcher) ----------------------------------------------------------------------
class Searching(Protocol):
    model: bool
    quotes: bool  # the finding is the passages' own sentences, not the model's summary

    async def queries(self, task: TaskRequest) -> Decided[list[str]]: ...


class RulesSearching:
    model, quotes = False, True

    async def queries(self, task: TaskRequest) -> Decided[list[str]]:
        return Decided([research_query(task.instruction)], "rules")


class ModelSearching:
    model, quotes = True, False

    def __init__(self, llm: ChatOpenAI):
        self.llm = llm

    async def queries(self, task: TaskRequest) -> Decided[list[str]]:
        started = time.perf_counter()
        try:
            reply = await constrained_json(
                self.llm,
                task,
                [SystemMessage(QUERIES_PROMPT), HumanMessage(task.instruction)],
                json_schema_format("queries", portable(QUERIES_SCHEMA)),
                QUERIES_SCHEMA,
                QUERY_TOKENS,
            )
            queries = [q.strip() for q in json.loads(reply)["queries"] if q.strip()]
            if not queries:
                raise ValueError("no query")
        except Exception as error:  # the rules search for the request instead
            log.info("the model's queries were not used (%s)", error)
            return Decided(
                (await RulesSearching().queries(task)).value, fell_back(error), time.perf_counter() - started
            )
        return Decided(queries[:MAX_QUERIES], "model", time.perf_counter() - started)


def research_query(request: str) -> str:
    """The part of a compound request that asks for facts: "Revenue went from $1.2M to $1.5M. What is the
    growth, and what do the docs say about storage?" searches for "what do the docs say about storage"."""
    clauses = [c for c in CLAUSE.split(request) if c.strip()]
    asking = [c for c in clauses if RESEARCH.search(c)]  # only a clause that asks for facts narrows the search
    return " ".join(asking) if asking and len(asking) < len(clauses) else request


def searching(settings: Settings, llm: ChatOpenAI | None) -> Searching:
    return ModelSearching(llm) if llm is not None and settings.profile("researcher") == "capable" else RulesSearching()


# --- writing (the writer) -------------------------------------------------------------------------
class Writing(Protocol):
    composes: bool  # an answer of facts and figures is composed from the findings, with no paraphrase
    flat_json: bool  # json_object is asked for as a flat object (a small model nests without end)
    calculates: bool  # the model has the `calculate` tool while it writes

    def chosen_function(self, task: TaskRequest) -> tuple[str | None, str]:
        """A function to call before (and instead of) prose, and why; None: the prose call decides."""
        ...

    def native_tools(self, task: TaskRequest) -> bool:
        """Whether the client's tools go to the model as they are, with its tool_choice."""
        ...


class RulesWriting:
    composes, flat_json, calculates = True, True, False

    def chosen_function(self, task: TaskRequest) -> tuple[str | None, str]:
        return choose_function(task)  # by word overlap, then forced: the small model chooses poorly

    def native_tools(self, task: TaskRequest) -> bool:
        return False


class ModelWriting:
    composes, flat_json, calculates = False, False, True

    def chosen_function(self, task: TaskRequest) -> tuple[str | None, str]:
        return None, "the model chooses"

    def native_tools(self, task: TaskRequest) -> bool:
        return bool(task.tools) and task.tool_choice != "none"


def writing(settings: Settings) -> Writing:
    return ModelWriting() if settings.profile("writer") == "capable" else RulesWriting()
