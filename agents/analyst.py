"""The analyst: computes figures from the request, the conversation and earlier findings."""

from __future__ import annotations

import asyncio

from agents.base import Agent, Gathered
from agents.calculator import Computation, compute
from orchestration.protocol import TaskRequest


class Analyst(Agent):
    name = "analyst"
    system_prompt = (
        "You are an analyst. The figures below were computed exactly. In two or three sentences, "
        "explain what they mean for the task. Do not recompute or change any figure."
    )

    async def gather(self, task: TaskRequest) -> Gathered:
        computations = await asyncio.to_thread(self._compute, task)
        if not computations:
            return Gathered(
                facts="No figures to compute were found in the request or the findings.",
                data={"computations": [], "needs_data": True},
                detail="0 computations",
                preamble="No figures to compute were found. ",
            )
        table = "\n".join(f"- {c.display}   (= {c.expression})" for c in computations)
        return Gathered(
            facts=f"Computed figures:\n{table}",
            data={"computations": [c.as_dict() for c in computations], "needs_data": False},
            detail=f"{len(computations)} computations",
            preamble="Computed figures:\n" + "\n".join(f"- {c.display}" for c in computations) + "\n\n",
        )

    def _compute(self, task: TaskRequest) -> list[Computation]:
        # The request first; only if it holds no figures, the conversation and the findings.
        found = compute(task.instruction)
        if found:
            return found
        earlier = [m.content for m in task.messages if m.role == "user"][-3:]
        earlier += [f.output for f in task.findings if f.status == "ok"]
        return compute("\n".join(earlier))
