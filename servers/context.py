"""Request context (request id, conversation id) that follows a request into every log line."""

from __future__ import annotations

import logging
import time
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
conversation_id_var: ContextVar[str] = ContextVar("conversation_id", default="-")


class ContextFilter(logging.Filter):
    """Every line names its request, conversation and process; `agent` and `duration_ms` come from
    the line's `extra` when it is about one agent or a timed piece of work."""

    def __init__(self, process: str):
        super().__init__()
        self.process = process

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.conversation_id = conversation_id_var.get()
        record.process_name = self.process
        if not hasattr(record, "agent"):
            record.agent = self.process if self.process not in ("gateway", "supervisor") else None
        if not hasattr(record, "duration_ms"):
            record.duration_ms = None
        return True


LOG_FIELDS = [
    "asctime",
    "levelname",
    "process_name",
    "name",
    "message",
    "request_id",
    "conversation_id",
    "agent",
    "duration_ms",
]


def configure_logging(process: str, level: str, log_format: str = "json") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter(process))
    if log_format == "json":  # one JSON object a line, for a log pipeline
        handler.setFormatter(
            JsonFormatter(
                LOG_FIELDS,
                rename_fields={"asctime": "time", "levelname": "level", "process_name": "process", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter(
                f"%(asctime)s %(levelname)s {process} %(name)s "
                "request_id=%(request_id)s conversation_id=%(conversation_id)s %(message)s"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpx2", "httpcore", "openai", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class RequestContextMiddleware:
    """Pure ASGI middleware (no response buffering): take or make x-request-id and echo it back, and
    say what this server added to the request's time (x-chorus-overhead-ms: the time until the
    response starts, less the time spent waiting on LLMs, which a handler puts in the request's
    state as llm_ms). A stream's headers leave before its answer: its figure is the time to start."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        request_id, conversation_id = None, b"-"
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode()
            elif name == b"x-conversation-id":
                conversation_id = value
        request_id = request_id or f"req-{uuid.uuid4().hex[:16]}"
        request_id_var.set(request_id)
        conversation_id_var.set(conversation_id.decode())
        state = scope.setdefault("state", {})
        state["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                overhead = (time.perf_counter() - started) * 1000 - state.get("llm_ms", 0.0)
                headers.append((b"x-chorus-overhead-ms", f"{max(overhead, 0.0):.1f}".encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)
