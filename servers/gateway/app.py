"""Wiring the gateway: its state, readiness checks, error handlers and routes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware

from config import Settings
from orchestration.protocol import TaskClient
from servers.access import OPEN_PATHS
from servers.base import check_http, create_server
from servers.context import request_id_var
from servers.gateway import redis_client
from servers.gateway.conversations import ConversationStore, NotOwned, StoreUnavailable
from servers.gateway.errors import APIError, BadRequest, NotFound, ServiceUnavailable, render
from servers.gateway.guard import Guard, key_digests
from servers.gateway.limits import Limiter, RateLimits
from servers.gateway.models import Models
from servers.gateway.playground import PATH as PLAYGROUND_PATH
from servers.gateway.playground import add_playground
from servers.gateway.response_store import ResponseStore
from servers.gateway.routes import add_routes

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    async def redis_answers(app: FastAPI) -> None:
        await app.state.store.ping()

    async def supervisor_answers(app: FastAPI) -> None:
        await check_http(app, f"{settings.agent_url('supervisor')}/health")

    async def start(app: FastAPI) -> None:
        app.state.store = ConversationStore(
            redis_client.connect(settings),
            settings.conversation_ttl_seconds,
            settings.conversation_max_messages,
            settings.conversation_max_bytes,
            settings.redis_wait_replicas,
            settings.redis_wait_ms,
        )
        app.state.responses = ResponseStore(app.state.store)
        app.state.rate_limits = RateLimits(
            app.state.store.redis, settings.rate_limit_requests_per_minute, settings.rate_limit_tokens_per_minute
        )
        app.state.tasks = TaskClient(app.state.session, internal_token=settings.internal_token.get_secret_value())
        app.state.models = Models(settings)

    async def stop(app: FastAPI) -> None:
        await app.state.store.close()

    doors = [  # the key first (nothing is read for a stranger), then the key's limits
        Middleware(
            Guard,
            digests=key_digests(settings.api_keys, settings.api_keys_file),
            max_bytes=settings.max_request_bytes,
            open_paths=OPEN_PATHS | {PLAYGROUND_PATH} if settings.playground else OPEN_PATHS,
        ),
        Middleware(Limiter, max_concurrent=settings.max_concurrent_requests_per_key),
    ]
    app = create_server(
        "gateway",
        settings,
        {"redis": redis_answers, "supervisor": supervisor_answers},
        on_start=start,
        on_stop=stop,
        doors=doors,
    )
    install_error_handlers(app)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # outside the guard: a browser's preflight carries no key
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["authorization", "content-type", "x-conversation-id"],
            expose_headers=["x-conversation-id", "x-agents-used", "x-request-id"],
        )
    if settings.playground:
        add_playground(app)
    router = APIRouter()
    add_routes(router, settings)
    app.include_router(router, prefix="/v1")
    app.include_router(router)  # voice platforms call {base}/chat/completions
    return app


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def api_error(request: Request, error: APIError):
        return render(error, request_id_var.get())

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, error: StoreUnavailable):
        failure = ServiceUnavailable(str(error), code="conversation_store_unavailable")
        return render(failure, request_id_var.get())

    @app.exception_handler(NotOwned)
    async def not_owned(request: Request, error: NotOwned):  # to another key it does not exist
        failure = NotFound(f"No conversation '{error}'.", param="conversation_id", code="conversation_not_found")
        return render(failure, request_id_var.get())

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        # of a union's alternatives, the error that went deepest says what is wrong
        first: dict[str, Any] = max(error.errors(), key=lambda e: len(e.get("loc", ())), default={})
        # union branches appear in the location by type ("str", "list[...]"): not part of the path
        loc = [str(p) for p in first.get("loc", [])[1:] if not _branch(p)]  # [0] is where: body, query, path
        param = ".".join(loc) or None
        message = f"Invalid value for '{param}': {first.get('msg')}" if param else str(first.get("msg"))
        if first.get("type") == "json_invalid":
            message, param = "The request body is not valid JSON.", None
        return render(BadRequest(message, param=param), request_id_var.get())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        kind = NotFound if error.status_code == 404 else BadRequest
        wrapped = kind(str(error.detail), code="not_found" if error.status_code == 404 else None)
        wrapped.status = error.status_code
        return render(wrapped, request_id_var.get())

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        log.exception("unhandled error")
        return render(APIError("The server had an error while processing your request."), request_id_var.get())


def _branch(part: object) -> bool:
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "float", "bool", "list", "dict"))
