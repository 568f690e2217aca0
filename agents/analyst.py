"""The analyst: computes the figures a request asks for, in words or symbols, with the calculator.

Which computations a request needs is an understanding step (understanding.py): on the basic profile
the rules read the request; on the capable one the model states them, and the calculator checks and
evaluates them. Either way its output is the computed figures themselves: the writer phrases the
answer, so no model restates numbers it could garble. The arithmetic runs in a killable child process
(calculation_process.py), so no request can stall this server.
"""

from __future__ import annotations

from typing import Any

from agents.base import Agent, Gathered, LLMClients
from agents.calculation_process import CalculationProcess
from agents.understanding import Inputs, computing
from config import Settings
from orchestration.protocol import Finding, TaskRequest

EARLIER_TURNS = 5  # user turns a follow-up ("and to 200?") may refer back to


class Analyst(Agent):
    name = "analyst"

    def __init__(self, settings: Settings, llm: LLMClients | None = None):
        super().__init__(settings, llm)
        self.computing = computing(settings, llm.chat if llm else None)

    async def start(self) -> None:
        self.calculations = CalculationProcess(self.settings.calculation_budget_seconds)

    async def stop(self) -> None:
        self.calculations.close()

    async def gather(self, task: TaskRequest) -> Gathered:
        earlier = [m.content for m in task.messages if m.role == "user"][-EARLIER_TURNS:]
        inputs = Inputs(task.instruction, earlier, [_figures_text(f) for f in task.findings if f.status == "ok"])
        async with self.llm_slot(task, self.computing.model):
            decided = await self.computing.analyse(task, inputs, self.calculations)
        analysis, how = decided.value, decided.how
        lines = [c.display for c in analysis.computations] + [r.display for r in analysis.refusals]
        data: dict[str, Any] = {
            "computations": [c.as_dict() for c in analysis.computations],
            "refusals": [r.as_dict() for r in analysis.refusals],
            "needs_data": not analysis.computations and not analysis.refusals,
            "empty": not lines and not analysis.unread,
            "unread": analysis.unread,
            "example": analysis.example,
            "understood_by": how,
        }
        if analysis.unread:
            said, detail = f"The figures could not be read: {analysis.unread}.", "0 computations: not read"
        elif not lines:
            said, detail = "No figures to compute were found.", "0 computations"
        else:
            said = "\n".join(f"- {line}" for line in lines)
            detail = f"{len(analysis.computations)} computed, {len(analysis.refusals)} refused"
        facts = "\n".join(lines) if lines else said
        return Gathered(
            facts=facts, data=data, complete=True, detail=f"{detail}; {how}", preamble=said, llm_seconds=decided.waited
        )


def _figures_text(finding: Finding) -> str:
    """What another agent found, as figures to compute from: its passages rather than its prose."""
    if finding.sources:
        return "\n".join(source.snippet for source in finding.sources)
    return finding.output
