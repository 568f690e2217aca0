"""The writer: composes the final answer from the request and the findings, streaming.

The answer leads with the computed figures, verbatim; the LLM's text follows, checked sentence by
sentence against the grounds (grounding.py); the sources and anything missing close it.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import BaseMessage, SystemMessage

from agents.base import Agent, Gathered, OutputCheck, conversation_messages, findings_text
from agents.findings_answer import body, footer, lead
from agents.grounding import GroundingCheck, grounds_for
from agents.structured import StructuredReply, call_function, choose_function, structured_content
from orchestration.protocol import Message, TaskRequest

NO_GROUNDED_ANSWER = "I can't answer that with figures I can stand behind: no source or computation supports them."
NOTHING_TO_QUOTE = (
    "The knowledge base has nothing on this, and I answer questions of fact only from a "
    "source, so I can't answer it here."
)
QUESTION = re.compile(r"\b(what|who|where|when|why|which|how)\b|\?\s*$", re.IGNORECASE)


class Writer(Agent):
    name = "writer"
    system_prompt = (
        "You are Chorus, a helpful assistant. Answer the user's request directly and concisely. "
        "When findings from your team are given, base the answer on them. The computed figures are "
        "already shown to the user: do not repeat or change them, and write no other numbers. "
        "Cite sources by their number like [1]."
    )

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
        if self.settings.profile("writer") == "capable" or task.tools or task.response_format:
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
        return kwargs

    async def structured_reply(self, task: TaskRequest, gathered: Gathered) -> StructuredReply | None:
        """The final voice decides: call one of the client's functions, answer in JSON, or speak."""
        name, why = choose_function(task)
        wants_json = (task.response_format or {}).get("type") in ("json_object", "json_schema")
        if not name and not wants_json:
            return None  # prose: the shared loop builds the prompt once and streams it
        messages = self.messages(task, gathered)
        async with self.gate.slot(task.deadline):
            if name:
                reply = await call_function(
                    self.llm.chat, self.settings.profile("writer") == "basic", task, name, messages
                )
                reply.detail += f"; {why}"
                return reply
            max_tokens = task.params.max_tokens or max(self.settings.agent_max_tokens, 1024)
            return await structured_content(
                self.llm.chat, self.settings.profile("writer") == "basic", task, messages, max_tokens
            )

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
