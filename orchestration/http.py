"""The one connection pool of a process: an aiohttp session, also behind an httpx client.

The hot path (calls between servers, and agents' prose from their LLM) uses the aiohttp session
directly: httpx's layer on top of it costs several times the CPU of the call itself. Libraries that
take an httpx client (langchain-openai, the readiness checks, web search, embeddings) get one whose
transport is that same session, so every call shares the pool. aiohttp's pool also holds up under
concurrency far better than httpx's own. (`make bench` measures the hops.)
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

MAX_CONNECTIONS = 512
# Below the servers' own keep-alive (KEEP_ALIVE_SECONDS), so the pool drops an idle connection
# before the server closes it under a request.
CLIENT_KEEP_ALIVE_SECONDS = 60
KEEP_ALIVE_SECONDS = 75
CONNECT_TIMEOUT = 5.0


def make_session() -> aiohttp.ClientSession:
    """Call inside the running event loop."""
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=CLIENT_KEEP_ALIVE_SECONDS)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT),  # callers bound the rest
    )


def make_http_client(session: aiohttp.ClientSession | None = None) -> httpx.AsyncClient:
    """An httpx client over `session` (a new one if not given); closing it closes the session."""
    return httpx.AsyncClient(
        transport=AiohttpTransport(client=session or make_session()),
        timeout=httpx.Timeout(30.0, connect=CONNECT_TIMEOUT),
    )
