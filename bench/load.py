"""The load generator: requests sent one after another (latency), many at once (throughput), and
streams timed token by token. aiohttp, so that the client costs little of the 2 cores it shares."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import aiohttp


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    overhead_ms: list[float] = field(default_factory=list)  # what Chorus says it added, where it says

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    @property
    def p50(self) -> float:
        return self.quantile(0.5)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)

    @property
    def per_second(self) -> float:
        return len(self.seconds) / self.elapsed if self.elapsed else 0.0


def session(concurrency: int = 100) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False, enable_cleanup_closed=True)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600))


async def _one(http: aiohttp.ClientSession, url: str, body: dict, headers: dict, out: Latencies) -> None:
    started = time.perf_counter()
    try:
        async with http.post(url, json=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                out.errors += 1
                return
            if overhead := response.headers.get("x-chorus-overhead-ms"):
                out.overhead_ms.append(float(overhead))
    except aiohttp.ClientError:
        out.errors += 1
        return
    out.seconds.append(time.perf_counter() - started)


async def requests(url: str, body: dict, count: int, concurrency: int = 1, headers: dict | None = None) -> Latencies:
    """`count` requests, `concurrency` at a time (1: one after another)."""
    out = Latencies()
    queue = iter(range(count))
    async with session(concurrency) as http:

        async def worker() -> None:
            for _ in queue:
                await _one(http, url, body, headers or {}, out)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        out.elapsed = time.perf_counter() - started
    return out


@dataclass
class StreamTiming:
    first: float  # seconds to the first content
    last: float  # seconds to the last content
    pieces: int  # content deltas received
    text: str
    error: str = ""
    progress: float = 0.0  # seconds to the first line of the team's progress (reasoning_content), if any


async def stream(http: aiohttp.ClientSession, url: str, body: dict, headers: dict | None = None) -> StreamTiming:
    """One streamed chat completion, timed at each content delta."""
    started = time.perf_counter()
    first = last = progress = 0.0
    parts: list[str] = []
    try:
        async with http.post(url, json={**body, "stream": True}, headers=headers or {}) as response:
            if response.status != 200:
                return StreamTiming(0, 0, 0, "", f"HTTP {response.status}: {(await response.text())[:200]}")
            async for raw in response.content:
                line = raw.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if "error" in chunk:
                    return StreamTiming(first, last, len(parts), "".join(parts), chunk["error"].get("message", "error"))
                for choice in chunk.get("choices") or []:
                    if not progress and (choice.get("delta") or {}).get("reasoning_content"):
                        progress = time.perf_counter() - started
                    if text := (choice.get("delta") or {}).get("content"):
                        last = time.perf_counter() - started
                        first = first or last
                        parts.append(text)
    except aiohttp.ClientError as error:
        return StreamTiming(first, last, len(parts), "".join(parts), f"{type(error).__name__}: {error}")
    return StreamTiming(first, last, len(parts), "".join(parts), progress=progress)
