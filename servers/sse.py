"""Server-sent events leaving a server: coalesced, and kept alive through idle timeouts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

PING = b": keep-alive\n\n"  # a comment line: SSE readers skip it, proxies see traffic
QUEUED = 256  # chunks waiting for a slow reader; then the producer waits


async def kept_alive(chunks: AsyncIterator[bytes], every: float) -> AsyncIterator[bytes]:
    """The chunks as they come, and a ping whenever `every` seconds pass without one. Chunks that
    are ready together leave in one write (a burst of tokens costs one send through the middleware
    and one syscall, not one each); none waits for another. Closing this closes `chunks`."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUED)

    async def pump() -> None:
        try:
            async for chunk in chunks:
                await queue.put(chunk)
        finally:
            await queue.put(None)

    pumping = asyncio.create_task(pump())
    try:
        while True:
            try:
                async with asyncio.timeout(every):
                    batch = [await queue.get()]
            except TimeoutError:
                yield PING
                continue
            while not queue.empty():
                batch.append(queue.get_nowait())
            ended = batch[-1] is None
            data = b"".join(part for part in batch if part is not None)
            if data:
                yield data
            if ended:
                await pumping  # the producer's failure, if it failed, is the stream's
                return
    finally:
        if not pumping.done():  # the reader left (or this task was cancelled): stop the producer
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
        await chunks.aclose()
