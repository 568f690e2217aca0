"""The writer: composes the final answer from the request and the findings, streaming.

The answer leads with the computed figures, verbatim; the LLM's text follows, checked sentence by
sentence against the grounds (grounding.py); the sources and anything missing close it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage

from agents.base import Agent, Gathered, LLMClients, OutputCheck, Reply, conversation_messages, findings_text
from agents.calculation_process import CalculationProcess
from agents.findings_answer import body, footer, lead
from agents.grounding import GroundingCheck, grounds_for
from agents.stated import STATED_SCHEMA, evaluate_stated
from agents.structured import (
    StructuredReply,
    call_function,
    functions,
    invalid_call,
    portable,
    structured_content,
)
from agents.understanding import writing
from config import Settings
from orchestration.protocol import Message, TaskRequest, ToolCall

NO_GROUNDED_ANSWER = "I can't answer that with figures I can stand behind: no source or computation supports them."
NOTHING_TO_QUOTE = (
    "The knowledge base has nothing on this, and I answer questions of fact only from a "
    "source, so I can't answer it here."
)
QUESTION = re.compile(r"\b(what|who|where|when|why|which|how)\b|\?\s*$", re.IGNORECASE)
CALCULATE_INSTEAD = "derive any other figure with the calculate tool, never in your head"
CALCULATE = {  # the capable writer's own tool: a figure it derives is computed, and so grounded
    "type": "function",
    "function": {
        "name": "calculate",
        "description": (
            "Evaluate arithmetic exactly. Call it for every figure you derive while writing (a share, a "
            "per-person amount, a difference, a percentage) instead of working it out yourself, and state "
            "where each input comes from. Figures you state without it are removed from your answer."
        ),
        "parameters": portable(STATED_SCHEMA["properties"]["computations"]["items"]),
    },
}


class Writer(Agent):
    name = "writer"
    system_prompt = (
        "You are Chorus, a helpful assistant. Answer the user's request directly and concisely. "
        "When findings from your team are given, base the answer on them. The computed figures are "
        "already shown to the user: do not repeat or change them, and write no other numbers. "
        "Cite sources by their number like [1]."
    )

    def __init__(self, settings: Settings, llm: LLMClients | None = None):
        super().__init__(settings, llm)
        self.writing = writing(settings)
        self.calculations: CalculationProcess | None = None
        if self.writing.calculates:
            self.system_prompt = self.system_prompt.replace("write no other numbers", CALCULATE_INSTEAD)

    async def start(self) -> None:
        if self.writing.calculates:
            self.calculations = CalculationProcess(self.settings.calculation_budget_seconds)

    async def stop(self) -> None:
        if self.calculations:
            self.calculations.close()

    async def gather(self, task: TaskRequest) -> Gathered:
        if composed := self.composed(task):
            return composed
        findings = findings_text(task.findings)
        _, results = this_turns_results(task.messages)
        facts = [f"Findings from the team:\n\n{findings}"] if findings else []
        if results:  # the client's functions ran for this request: their results are findings too
            facts.append("Results of the functions called for this request:\n" + "\n".join(f"- {r}" for r in results))
        return Gathered(
            facts="\n\n".join(facts),
            detail=f"{len(task.findings)} findings",
            preamble=lead(task.findings),
            footer=footer(task.findings),
        )

    def composed(self, task: TaskRequest) -> Gathered | None:
        """On the basic profile, an answer of facts and figures is composed from the findings, with
        no paraphrase: the small model invents when it restates. It writes only where no fact is."""
        if not self.writing.composes or task.tools or task.response_format:
            return None
        computed = [c for f in task.findings for c in f.data.get("computations", [])]
        unread = next((f.data for f in task.findings if f.data.get("unread")), None)
        sources = [s for f in task.findings for s in f.sources]
        searched_nothing = any(f.agent == "researcher" and f.data.get("empty") for f in task.findings)
        if not (computed or unread or sources):
            if searched_nothing and QUESTION.search(task.instruction):
                return Gathered(
                    facts="",
                    detail="nothing to quote",
                    preamble=NOTHING_TO_QUOTE,
                    complete=True,
                    data={"grounding": "checked by construction: no source, so no fact stated"},
                )
            return None
        answer = body(task.instruction, task.findings)
        if not answer:
            return None
        return Gathered(
            facts="",
            detail=f"{len(task.findings)} findings, composed without the LLM",
            preamble=answer,
            footer=footer(task.findings),
            complete=True,
            data={
                "grounding": "checked by construction: composed from the computed figures and the "
                "sources' own sentences (basic profile, no model text)"
            },
        )

    def user_prompt(self, task: TaskRequest, gathered: Gathered) -> str:
        if not gathered.facts:
            return task.instruction
        return f"{task.instruction}\n\n{gathered.facts}"

    def history(self, task: TaskRequest) -> list[BaseMessage]:
        # The client's own system message (if any) applies to this turn; then the earlier turns.
        system = [SystemMessage(m.content) for m in task.messages if m.role in ("system", "developer")]
        earlier, _ = this_turns_results(task.messages)  # this turn's calls are in the prompt, as results
        return system + conversation_messages(earlier)

    def llm_kwargs(self, task: TaskRequest) -> dict[str, Any]:
        # The client's generation parameters are the writer's: it produces the answer they shape.
        kwargs = task.params.llm_kwargs() | self.repeatable(task)
        kwargs.setdefault("max_tokens", max(self.settings.agent_max_tokens, 512))
        return kwargs | self.tools(task)

    def tools(self, task: TaskRequest) -> dict[str, Any]:
        """The tools the model writes with: the client's as they are (capable), and `calculate`."""
        offered = list(task.tools) if self.writing.native_tools(task) else []
        choice: Any = task.tool_choice if offered else None
        if self.writing.calculates and choice in (None, "auto") and "calculate" not in functions(task):
            offered.append(CALCULATE)
        if not offered:
            return {}
        extra = {"parallel_tool_calls": task.parallel_tool_calls} if task.parallel_tool_calls is not None else {}
        return {"tools": offered, "tool_choice": choice or "auto", **extra}

    async def tools_called(
        self, task: TaskRequest, reply: Reply, calls: list[dict[str, str]], check: OutputCheck | None
    ) -> bool:
        """`calculate` is answered by the calculator, and its figure grounded; a client's function is the
        reply, once its arguments are valid (an invalid call is sent back to the model to mend)."""
        mine = [c for c in calls if c["name"] == "calculate" and "calculate" not in functions(task)]
        theirs = [c for c in calls if c not in mine]
        problems = [p for c in theirs if (p := invalid_call(task, _call(c)))]
        if theirs and not problems:
            return await super().tools_called(task, reply, theirs, check)
        ids = [c["id"] or f"call_{n}" for n, c in enumerate(calls)]
        said = AIMessage(
            "", tool_calls=[{"name": c["name"], "args": _arguments(c), "id": i} for c, i in zip(calls, ids)]
        )
        answers: list[BaseMessage] = []
        for call, call_id in zip(calls, ids):
            if problems:  # nothing goes to the client invalid: the model is told why, and mends it
                answer = f"Not sent: {'; '.join(problems)}. Call it again with valid arguments."
            else:
                answer = await self.calculated(task, _arguments(call), check)
            answers.append(ToolMessage(answer, tool_call_id=call_id))
        reply.messages = [*reply.messages, said, *answers]
        return True

    async def calculated(self, task: TaskRequest, arguments: dict[str, Any], check: OutputCheck | None) -> str:
        """One `calculate` call, checked and evaluated like the analyst's stated computations."""
        if self.calculations is None:
            return "Not computed: the calculator is not available."
        history = [m.content for m in task.messages]
        passages = [f.output for f in task.findings] + [s.snippet for f in task.findings for s in f.sources]
        analysis = await self.calculations.run(evaluate_stated, [arguments], task.instruction, history, passages)
        if not analysis.computations:
            return "; ".join(r.display for r in analysis.refusals) or "Not computed."
        computation = analysis.computations[0]
        if isinstance(check, GroundingCheck):
            check.ground(computation.as_dict())
        return computation.display

    async def structured_reply(self, task: TaskRequest, gathered: Gathered) -> StructuredReply | None:
        """The final voice decides: call one of the client's functions, answer in JSON, or speak."""
        name, why = self.writing.chosen_function(task)
        wants_json = (task.response_format or {}).get("type") in ("json_object", "json_schema")
        if not name and not wants_json:
            return None  # prose: the shared loop builds the prompt once and streams it
        messages = self.messages(task, gathered)
        async with self.gate.slot(task.deadline):
            if name:
                reply = await call_function(self.llm.chat, task, name, messages)
                reply.detail += f"; {why}"
                return reply
            max_tokens = task.params.max_tokens or max(self.settings.agent_max_tokens, 1024)
            return await structured_content(self.llm.chat, self.writing.flat_json, task, messages, max_tokens)

    def output_check(self, task: TaskRequest, gathered: Gathered) -> OutputCheck:
        fallback = "" if gathered.preamble else NO_GROUNDED_ANSWER
        return GroundingCheck(grounds_for(task), fallback, already_said=gathered.preamble)

    def checked(self, gathered: Gathered, verdict: str) -> None:
        gathered.data["grounding"] = verdict


def this_turns_results(messages: list[Message]) -> tuple[list[Message], list[str]]:
    """The earlier turns, and the results of the functions called after this turn's question."""
    at = len(messages)
    while at and (
        messages[at - 1].role == "tool" or (messages[at - 1].role == "assistant" and messages[at - 1].tool_calls)
    ):
        at -= 1
    names = {call.id: call.name for m in messages[at:] for call in m.tool_calls or []}
    results = [
        f"{m.name or names.get(m.tool_call_id or '', 'a function')}: {m.content}"
        for m in messages[at:]
        if m.role == "tool"
    ]
    return messages[:at], results


def _arguments(call: dict[str, str]) -> dict[str, Any]:
    try:
        value = json.loads(call["arguments"] or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _call(call: dict[str, str]) -> ToolCall:
    return ToolCall(name=call["name"], arguments=call["arguments"])
