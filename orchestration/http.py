"""The one shared async HTTP client of a process: connections are pooled and reused."""

from __future__ import annotations

import httpx
from httpx_aiohttp import HttpxAiohttpClient

# aiohttp's connection pool holds up under concurrency far better than httpx's own (measured:
# ~1,600 vs ~400 req/s through one proxy hop at 32 connections), behind the same httpx API.
LIMITS = httpx.Limits(max_connections=512, max_keepalive_connections=128, keepalive_expiry=60)


def make_http_client() -> httpx.AsyncClient:
    return HttpxAiohttpClient(limits=LIMITS, timeout=httpx.Timeout(30.0, connect=5.0))
