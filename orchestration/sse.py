"""Server-sent events, both ways: framed, kept alive through idle timeouts, and parsed.

Every hop speaks SSE: the gateway to its clients (OpenAI's chunks), the servers to each other
(the task protocol's events), the LLM to the agents. All of it is framed and read here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

from orchestration.merged import Merged

PING = b": keep-alive\n\n"  # a comment line: SSE readers skip it, proxies see traffic
QUEUED = 256  # chunks waiting for a slow reader; then the producer waits


def frame(data: bytes, event: str | None = None) -> bytes:
    """One event on the wire; the task protocol and the Responses API name theirs, chat chunks do not."""
    return (b"event: " + event.encode() + b"\n" if event else b"") + b"data: " + data + b"\n\n"


async def events_of(content: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, bytes]]:
    """(event, data) of each event as it arrives, in any chunking; comments (pings) are skipped.
    Read in chunks, not lines: a result event is one line, and aiohttp refuses lines over 128 KiB."""
    buffer = bytearray()
    async for chunk in content:
        searched = max(len(buffer) - 1, 0)
        buffer += chunk
        while (end := buffer.find(b"\n\n", searched)) >= 0:
            block, buffer, searched = bytes(buffer[:end]), buffer[end + 2 :], 0
            event, data = "message", []
            for line in block.split(b"\n"):
                if line.startswith(b"event:"):
                    event = line[6:].strip().decode()
                elif line.startswith(b"data:"):
                    data.append(line[5:].removeprefix(b" "))
            if data:
                yield event, b"\n".join(data)


async def kept_alive(chunks: AsyncGenerator[bytes, None], every: float) -> AsyncGenerator[bytes, None]:
    """The chunks as they come, and a ping whenever `every` seconds pass without one. Chunks that
    are ready together leave in one write (a burst of tokens costs one send through the middleware
    and one syscall, not one each); none waits for another. Closing this closes `chunks`."""
    async with Merged([chunks], QUEUED) as merged:
        while not merged.ended:
            try:
                async with asyncio.timeout(every):
                    _, first = await merged.get()
            except TimeoutError:
                yield PING
                continue
            except StopAsyncIteration:
                return
            batch, failure = [first], None
            try:
                while (ready := merged.get_nowait()) is not None:
                    batch.append(ready[1])
            except Exception as error:  # what came before it still leaves; then the failure is the stream's
                failure = error
            yield b"".join(batch)
            if failure is not None:
                raise failure
