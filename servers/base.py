"""What every server shares: request context and logs, the pooled HTTP client, /health and /ready."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from config import Settings
from orchestration.context import RequestContextMiddleware, configure_logging
from orchestration.http import make_http_client

ReadinessCheck = Callable[[FastAPI], Awaitable[None]]  # raises when the dependency is not there
READY_CHECK_TIMEOUT = 2.0


def create_server(
    process: str,
    settings: Settings,
    checks: dict[str, ReadinessCheck],
    on_start: Callable[[FastAPI], Awaitable[None]] | None = None,
    on_stop: Callable[[FastAPI], Awaitable[None]] | None = None,
) -> FastAPI:
    configure_logging(process, settings.log_level)
    started_at = time.time()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.http = make_http_client()
        if on_start:
            await on_start(app)
        try:
            yield
        finally:
            if on_stop:
                await on_stop(app)
            await app.state.http.aclose()

    app = FastAPI(title=f"Chorus {process}", lifespan=lifespan)
    app.state.settings = settings
    app.add_middleware(RequestContextMiddleware)

    @app.get("/health", tags=["ops"])
    async def health() -> dict:
        return {"status": "ok", "process": process, "uptime_seconds": round(time.time() - started_at, 1)}

    @app.get("/ready", tags=["ops"])
    async def ready() -> JSONResponse:
        names = list(checks)
        outcomes = await asyncio.gather(
            *(asyncio.wait_for(checks[name](app), READY_CHECK_TIMEOUT) for name in names),
            return_exceptions=True,
        )
        report = {
            name: "ok" if not isinstance(outcome, BaseException) else _describe(outcome)
            for name, outcome in zip(names, outcomes)
        }
        ok = all(value == "ok" for value in report.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "process": process, "checks": report},
            status_code=200 if ok else 503,
        )

    return app


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"[:200] or type(error).__name__


async def check_http(app: FastAPI, url: str, headers: dict[str, str] | None = None) -> None:
    response = await app.state.http.get(url, headers=headers, timeout=READY_CHECK_TIMEOUT)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered HTTP {response.status_code}")
