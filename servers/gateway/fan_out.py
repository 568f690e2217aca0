"""Several prompts at once (legacy completions take a list): one team run each, merged into one
stream of events whose choices are numbered prompt by prompt, as OpenAI numbers them."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from orchestration.merged import merged
from orchestration.protocol import Choice, EventType, TaskEvent, TaskResult, TaskStream, Token


def renumbered(result: TaskResult, offset: int) -> list[Choice]:
    return [choice.model_copy(update={"index": choice.index + offset}) for choice in result.all_choices()]


def merged_result(results: list[TaskResult], per_prompt: int) -> TaskResult:
    """One result for the client: every prompt's choices, and every run's trace."""
    first = results[0]
    choices = [c for k, result in enumerate(results) for c in renumbered(result, k * per_prompt)]
    return first.model_copy(
        update={
            "choices": choices,
            "trace": [run for result in results for run in result.trace],
            "status": "degraded" if any(r.status == "degraded" for r in results) else first.status,
            "iterations": max(r.iterations for r in results),
        }
    )


async def fan_out(streams: list[AsyncGenerator[TaskEvent, None]], per_prompt: int) -> AsyncGenerator[TaskEvent, None]:
    """The runs' events as they come; tokens renumbered; one merged result at the end."""
    if len(streams) == 1:
        async for event in streams[0]:
            yield event
        return
    results: dict[int, TaskResult] = {}
    async for k, event in merged([_until_result(events) for events in streams], buffer=len(streams)):
        if isinstance(event.data, TaskResult):
            results[k] = event.data
        elif isinstance(event.data, Token):
            data = event.data
            yield TaskEvent(type=EventType.token, data=data.model_copy(update={"index": data.index + k * per_prompt}))
        else:
            yield event
    yield TaskEvent(type=EventType.result, data=merged_result([results[k] for k in range(len(streams))], per_prompt))


async def _until_result(events: AsyncGenerator[TaskEvent, None]) -> AsyncGenerator[TaskEvent, None]:
    """A run's events up to its result, which comes last; an error event is raised (TaskStream)."""
    stream = TaskStream(events)
    try:
        async for event in stream:
            yield event
        yield TaskEvent(type=EventType.result, data=stream.result)
    finally:
        await stream.aclose()
