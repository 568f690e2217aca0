"""What every server shares: request context and logs, metrics, cancellation on disconnect, the
pooled HTTP client, /health, /ready and the task route."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.middleware import Middleware

from config import Settings
from orchestration.http import make_http_client, make_session
from orchestration.protocol import (
    TASKS_PATH,
    AgentCallError,
    ErrorInfo,
    EventType,
    TaskEvent,
    TaskRequest,
    TaskResult,
    TaskStream,
    within,
)
from orchestration.sse import kept_alive
from servers.access import InternalOnly
from servers.cancellation import CancelOnDisconnect
from servers.context import RequestContextMiddleware, configure_logging, conversation_id_var, request_id_var
from servers.metrics import Metrics

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[FastAPI], Awaitable[None]]  # raises when the dependency is not there
ReadinessReport = Callable[[FastAPI], dict[str, Any]]  # more to say in /ready, without failing it
READY_CHECK_TIMEOUT = 2.0
PING_SECONDS = 15.0  # a comment line keeps a silent stream alive through proxies with idle timeouts


def internal_door(settings: Settings, process: str) -> list[Middleware]:
    """The supervisor and agents answer only holders of the internal token, when one is set."""
    token = settings.internal_token.get_secret_value()
    return [Middleware(InternalOnly, token=token, process=process)] if token else []


def create_server(
    process: str,
    settings: Settings,
    checks: dict[str, ReadinessCheck],
    on_start: Callable[[FastAPI], Awaitable[None]] | None = None,
    on_stop: Callable[[FastAPI], Awaitable[None]] | None = None,
    doors: Sequence[Middleware] = (),
    report_more: ReadinessReport | None = None,
) -> FastAPI:
    """`doors` decide who gets in (outermost first); they run after the request is counted and
    before the body is read."""
    configure_logging(process, settings.log_level, settings.log_format)
    started_at = time.time()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.session = make_session()  # the pool; the hot path calls it directly
        app.state.http = make_http_client(app.state.session)  # the same pool, for httpx's users
        if on_start:
            await on_start(app)
        gc.freeze()  # what start-up built lives as long as the process: the collector skips it from now on
        try:
            yield
        finally:
            if on_stop:
                await on_stop(app)
            await app.state.http.aclose()

    middleware = [  # outermost first
        Middleware(RequestContextMiddleware),
        Middleware(Metrics, process=process, token=settings.metrics_token.get_secret_value()),
        *doors,
        Middleware(CancelOnDisconnect),
    ]
    app = FastAPI(title=f"Chorus {process}", lifespan=lifespan, middleware=middleware)
    app.state.settings = settings

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, Any]:
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
        extra = report_more(app) if report_more else {}
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "process": process, "checks": report, **extra},
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


TaskRunner = Callable[[FastAPI, TaskRequest], AsyncGenerator[TaskEvent, None]]
WholeRunner = Callable[[FastAPI, TaskRequest], Awaitable[TaskResult]]


def add_task_route(app: FastAPI, process: str, run: TaskRunner, run_whole: WholeRunner | None = None) -> None:
    """`POST /v1/tasks`, the same for the supervisor and every agent: events streamed as SSE, or
    the result whole (from `run_whole` if given, which skips making events nobody reads; else the
    events drained). A failure is an HTTP error (or, once streaming, an error event); the task's
    deadline passing is a 504."""

    @app.post(TASKS_PATH)
    async def run_task(task: TaskRequest, request: Request) -> Response:
        request_id_var.set(task.request_id)  # the task's id is the request's, through every hop
        conversation_id_var.set(task.conversation_id or "-")
        log.debug(
            "task %s started: %s", task.task_id, task.instruction[:80].replace("\n", " ")
        )  # user text: debug only
        started = time.perf_counter()

        def events() -> AsyncGenerator[TaskEvent, None]:
            return within(_timed(run(request.app, task), task, started), task.deadline)

        if task.stream:
            return StreamingResponse(
                _sse(events(), task, process),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
            )
        try:
            if run_whole is None:
                result = await TaskStream(events()).drain()
            else:
                try:
                    async with asyncio.timeout(max(task.deadline - time.time(), 0.0)):
                        result = _done(await run_whole(request.app, task), task, started)
                except TimeoutError:
                    raise AgentCallError("the request's deadline passed", deadline=True) from None
        except AgentCallError as error:
            return JSONResponse(
                ErrorInfo.of(error, process).model_dump(),
                status_code=504 if error.deadline else 429 if error.busy else 502 if error.llm else 500,
            )
        request.state.llm_ms = result.llm_ms
        return Response(result.model_dump_json(), media_type="application/json")


async def _timed(
    events: AsyncGenerator[TaskEvent, None], task: TaskRequest, started: float
) -> AsyncGenerator[TaskEvent, None]:
    async for event in events:
        if isinstance(event.data, TaskResult):
            _done(event.data, task, started)
        yield event


def _done(result: TaskResult, task: TaskRequest, started: float) -> TaskResult:
    result.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    log.info("task %s done", task.task_id, extra={"duration_ms": result.duration_ms})
    return result


def _sse(events: AsyncGenerator[TaskEvent, None], task: TaskRequest, process: str) -> AsyncGenerator[bytes, None]:
    """The events as server-sent events, kept alive; an error is reported to the caller as a typed
    event, and logged."""

    async def encoded() -> AsyncGenerator[bytes, None]:
        try:
            async for event in events:
                yield event.to_sse()
        except Exception as error:
            log.exception("task %s failed", task.task_id)
            info = ErrorInfo.of(error, process)
            yield TaskEvent(type=EventType.error, data=info).to_sse()
        finally:
            await events.aclose()

    return kept_alive(encoded(), PING_SECONDS)
