"""`make bench`: what the team's hops add, measured on the running system (`make up` first).

Prints, for the fast path (a greeting goes gateway -> supervisor -> writer -> LLM):
- time to first token through the gateway, and straight from the LLM, and their difference;
- latency and throughput of a request that crosses the gateway alone (GET /v1/models).
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx

from config import load_settings
from orchestration.http import make_http_client

ROUNDS = 15
CONCURRENCY = 32
REQUESTS = 2000


async def first_token_seconds(http: httpx.AsyncClient, url: str, body: dict) -> float:
    started = time.perf_counter()
    async with http.stream("POST", url, json=body, timeout=60) as response:
        async for line in response.aiter_lines():
            if '"content":"' in line and '"content":""' not in line:
                return time.perf_counter() - started
    raise RuntimeError("no token")


async def main() -> None:
    settings = load_settings()
    gateway = f"http://127.0.0.1:{settings.gateway_port}/v1"
    llm = settings.llm_for("writer")
    messages = [{"role": "user", "content": "Hello!"}]
    async with make_http_client() as http:
        through, direct = [], []
        for _ in range(ROUNDS):
            through.append(await first_token_seconds(
                http, f"{gateway}/chat/completions",
                {"model": settings.model_name, "stream": True, "messages": messages, "max_tokens": 16}))
            direct.append(await first_token_seconds(
                http, f"{llm.base_url}/chat/completions",
                {"model": llm.model, "stream": True, "messages": messages, "max_tokens": 16}))
        gw, ll = statistics.median(through), statistics.median(direct)
        print(f"fast path, time to first token (median of {ROUNDS}):")
        print(f"  through the gateway and the team: {gw * 1000:7.1f} ms")
        print(f"  straight from the LLM:            {ll * 1000:7.1f} ms")
        print(f"  added by gateway+supervisor+writer hops: {(gw - ll) * 1000:7.1f} ms")

        semaphore = asyncio.Semaphore(CONCURRENCY)
        latencies: list[float] = []

        async def one() -> None:
            async with semaphore:
                t0 = time.perf_counter()
                response = await http.get(f"{gateway}/models")
                response.raise_for_status()
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(REQUESTS)))
        elapsed = time.perf_counter() - t0
        latencies.sort()
        print(f"gateway alone, GET /v1/models, {REQUESTS} requests at concurrency {CONCURRENCY}:")
        print(f"  {REQUESTS / elapsed:,.0f} req/s, p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
