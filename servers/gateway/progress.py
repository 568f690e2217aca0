"""The team's progress as short readable lines, made from its real events.

A stream sends them as `delta.reasoning_content` before the answer: the field Open WebUI shows as a
collapsible "thinking" block, and LangChain's ChatDeepSeek and LibreChat read. A whole answer
carries them as `message.reasoning_content`. Plain OpenAI clients ignore the field.
"""

from __future__ import annotations

from orchestration.protocol import Step, StepStarted, TaskEvent, TaskResult

BUILT_IN = {"researcher": "Researcher", "analyst": "Analyst"}


def line_of(event: TaskEvent) -> str | None:
    """The line an event of the team's adds to its progress, if any."""
    if isinstance(event.data, Step):
        return _finished(event.data)
    if isinstance(event.data, StepStarted):
        return _started(event.data)
    return None


def lines_of(result: TaskResult) -> list[str]:
    """A whole answer's progress: the same lines, from the steps the team recorded."""
    lines = []
    for step in result.steps:
        line = _finished(step) or _started(step)
        if line and line not in lines:
            lines.append(line)
    return lines


def _started(step: Step | StepStarted) -> str | None:
    if step.agent == "writer" and step.name == "tools":  # the writer's first step
        return "Writer: answering."
    return None


def _finished(step: Step) -> str | None:
    if step.agent == "supervisor" and step.name == "plan":
        workers = [agent for agent in step.agents if agent != "writer"]  # the team file's workers, any name
        if not workers:
            return "Planning: the writer answers directly."
        return f"Planning: {' and '.join(workers)}, then the writer."
    if step.agent not in ("supervisor", "writer") and step.name == "task":
        name = BUILT_IN.get(step.agent, step.agent)
        if step.status != "ok":  # why is in the trace and the logs: progress is shown to the user
            return f"{name}: not available for this answer."
        return f"{name}: {step.detail or 'done'}."
    return None
