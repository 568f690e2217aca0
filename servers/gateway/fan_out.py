"""Several prompts at once (legacy completions take a list): one team run each, merged into one
stream of events whose choices are numbered prompt by prompt, as OpenAI numbers them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from orchestration.protocol import Choice, EventType, TaskEvent, TaskResult, TaskStream


def renumbered(result: TaskResult, offset: int) -> list[Choice]:
    return [choice.model_copy(update={"index": choice.index + offset}) for choice in result.all_choices()]


def merged_result(results: list[TaskResult], per_prompt: int) -> TaskResult:
    """One result for the client: every prompt's choices, and every run's trace."""
    first = results[0]
    choices = [c for k, result in enumerate(results) for c in renumbered(result, k * per_prompt)]
    return first.model_copy(update={
        "choices": choices,
        "trace": [run for result in results for run in result.trace],
        "status": "degraded" if any(r.status == "degraded" for r in results) else first.status,
        "iterations": max(r.iterations for r in results),
    })


async def fan_out(streams: list[AsyncIterator[TaskEvent]], per_prompt: int) -> AsyncIterator[TaskEvent]:
    """The runs' events as they come; tokens renumbered; one merged result at the end."""
    if len(streams) == 1:
        async for event in streams[0]:
            yield event
        return
    queue: asyncio.Queue[tuple[int, TaskEvent | BaseException | None]] = asyncio.Queue()

    async def pump(k: int, events: AsyncIterator[TaskEvent]) -> None:
        stream = TaskStream(events)
        try:
            async for event in stream:
                await queue.put((k, event))
            await queue.put((k, TaskEvent(type=EventType.result, data=stream.result)))
        except Exception as error:  # the reader turns it back into the same failure
            await queue.put((k, error))
        finally:
            await stream.aclose()

    pumps = [asyncio.create_task(pump(k, events)) for k, events in enumerate(streams)]
    results: dict[int, TaskResult] = {}
    try:
        while len(results) < len(streams):
            k, item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            if item.type is EventType.result:
                results[k] = item.data
            elif item.type is EventType.token:
                data = item.data
                yield TaskEvent(type=EventType.token,
                                data=data.model_copy(update={"index": data.index + k * per_prompt}))
            else:
                yield item
        merged = merged_result([results[k] for k in range(len(streams))], per_prompt)
        yield TaskEvent(type=EventType.result, data=merged)
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
