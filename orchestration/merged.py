"""Several async iterators read at once, each in a task of its own, their items in one queue as they come.

Every merge in Chorus (n choices side by side, legacy completions' prompts, a stream kept alive
with pings, a LangGraph run in a task of its own) is this one helper, so errors and cancellation
behave the same everywhere:
- a source's exception is raised to the reader, at the place in the order where it happened;
- leaving (the reader closes, fails or is cancelled) cancels every source's task once, as plain
  asyncio, and waits, shielded from a cancel scope that would cut the wait short (Starlette's), until
  each source has closed what it opened: an LLM stream, a call to an agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio

T = TypeVar("T")


@dataclass
class _Ended:
    error: BaseException | None = None


class Merged(Generic[T]):
    """`async with Merged(sources) as merged:` then `async for index, item in merged`, or `get()`
    (which a caller may bound with a timeout: an item is never lost to a cancelled wait).

    `buffer` items may wait for the reader; then each source waits: 1 is a hand-over, no buffering."""

    def __init__(self, sources: Sequence[AsyncIterator[T]], buffer: int = 1):
        self._sources = sources
        self._queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue(max(buffer, 1))
        self._tasks: list[asyncio.Task[None]] = []
        self._running = len(sources)

    async def __aenter__(self) -> Merged[T]:
        self._tasks = [asyncio.create_task(self._pump(i, source)) for i, source in enumerate(self._sources)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        with anyio.CancelScope(shield=True):
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _pump(self, index: int, source: AsyncIterator[T]) -> None:
        ended = _Ended()
        try:
            async for item in source:
                await self._queue.put((index, item))
        except Exception as error:  # the reader raises it
            ended = _Ended(error)
        finally:
            if (aclose := getattr(source, "aclose", None)) is not None:
                await aclose()  # what the source opened closes in its own task, cancelled or not
        await self._queue.put((index, ended))

    def _taken(self, index: int, item: Any) -> tuple[int, T] | None:
        if isinstance(item, _Ended):
            self._running -= 1
            if item.error is not None:
                raise item.error
            return None
        return index, item

    async def get(self) -> tuple[int, T]:
        """The next item and the index of its source; StopAsyncIteration once every source ended."""
        while self._running:
            if (taken := self._taken(*await self._queue.get())) is not None:
                return taken
        raise StopAsyncIteration

    def get_nowait(self) -> tuple[int, T] | None:
        """An item that is already waiting, or None."""
        while self._running and not self._queue.empty():
            if (taken := self._taken(*self._queue.get_nowait())) is not None:
                return taken
        return None

    @property
    def ended(self) -> bool:
        return not self._running

    def __aiter__(self) -> Merged[T]:
        return self

    async def __anext__(self) -> tuple[int, T]:
        return await self.get()


async def merged(sources: Sequence[AsyncIterator[T]], buffer: int = 1) -> AsyncIterator[tuple[int, T]]:
    """The sources' items as they come, with the index of the source each came from."""
    async with Merged(sources, buffer) as items:
        async for index, item in items:
            yield index, item


async def awaited_in_own_task(work: Awaitable[T]) -> T:
    """`work`'s value, run as a task of its own for the same reason: a cancelled caller cancels it
    once, and waits until it has closed everything."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    finally:
        if not task.done():
            task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait({task})
