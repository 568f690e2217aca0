"""Run an async iterator (or an awaitable) in a task of its own, so that cancelling its reader cleans it up fully.

anyio's cancel scopes (Starlette's) cancel every await again once cancelled. A
LangGraph run being closed awaits its node tasks, and those awaits would be cut short: the nodes'
open calls (the writer's stream, and the LLM behind it) would run on. Here the reader's
cancellation reaches the iterator's task once, as plain asyncio, and the reader waits (shielded)
until the iterator has closed everything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from typing import TypeVar

import anyio

T = TypeVar("T")
_END = object()


async def in_own_task(source: AsyncIterator[T]) -> AsyncIterator[T]:
    queue: asyncio.Queue = asyncio.Queue(maxsize=1)  # the task waits for the reader: no buffering

    async def pump() -> None:
        async for item in source:
            await queue.put(item)
        await queue.put(_END)

    task = asyncio.create_task(pump())
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:  # the task ended without a last item: it failed
                getter.cancel()
                task.result()
                return
            item = getter.result()
            if item is _END:
                return
            yield item
    finally:
        if not task.done():
            task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait({task})


async def awaited_in_own_task(work: Awaitable[T]) -> T:
    """`work`'s value, run as its own task for the same reason: a cancelled caller cancels it once,
    and waits until it has closed everything."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    finally:
        if not task.done():
            task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait({task})
