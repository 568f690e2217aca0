"""The writer: composes the final answer from the request and the findings, streaming."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage, SystemMessage

from agents.base import Agent, Gathered, conversation_messages, findings_text
from orchestration.protocol import TaskRequest


class Writer(Agent):
    name = "writer"
    system_prompt = (
        "You are Chorus, a helpful assistant. Answer the user's request directly and concisely. "
        "When findings from your team are given, base the answer on them, keep every figure exactly "
        "as given, and cite sources by their number like [1]."
    )

    async def gather(self, task: TaskRequest) -> Gathered:
        facts = findings_text(task.findings)
        return Gathered(
            facts=f"Findings from the team:\n\n{facts}" if facts else "",
            detail=f"{len(task.findings)} findings",
            footer=_footer(task),
        )

    def user_prompt(self, task: TaskRequest, gathered: Gathered) -> str:
        if not gathered.facts:
            return task.instruction
        return f"{task.instruction}\n\n{gathered.facts}"

    def history(self, task: TaskRequest) -> list[BaseMessage]:
        # The client's own system message (if any) applies to this turn; then the earlier turns.
        system = [SystemMessage(m.content) for m in task.messages if m.role in ("system", "developer")]
        return system + conversation_messages(task.messages)

    def llm_kwargs(self, task: TaskRequest) -> dict[str, Any]:
        # The client's generation parameters are the writer's: it produces the answer they shape.
        kwargs = task.params.llm_kwargs()
        kwargs.setdefault("max_tokens", max(self.settings.agent_max_tokens, 512))
        return kwargs


def _footer(task: TaskRequest) -> str:
    """Computed figures and sources, verbatim: a small model may garble them, so they are appended."""
    lines: list[str] = []
    figures = [c["display"] for f in task.findings for c in f.data.get("computations", [])]
    if figures:
        lines.append("Figures (computed by the analyst): " + "; ".join(figures) + ".")
    sources = [s for f in task.findings for s in f.sources]
    if sources:
        lines.append("Sources: " + "; ".join(f"[{s.ref}] {s.location}" for s in sources))
    missing = [f"{f.agent} ({f.error})" for f in task.findings if f.status == "failed"]
    if missing:
        lines.append("Not available: " + "; ".join(missing) + ".")
    return "\n\n" + "\n".join(lines) if lines else ""
