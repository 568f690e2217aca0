"""Request context (request id, conversation id) that follows a request into every log line."""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

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


LOG_FIELDS = ["asctime", "levelname", "process_name", "name", "message", "request_id", "conversation_id",
              "agent", "duration_ms"]


def configure_logging(process: str, level: str, log_format: str = "json") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter(process))
    if log_format == "json":  # one JSON object a line, for a log pipeline
        handler.setFormatter(JsonFormatter(
            LOG_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "process_name": "process",
                                       "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(
            f"%(asctime)s %(levelname)s {process} %(name)s "
            "request_id=%(request_id)s conversation_id=%(conversation_id)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpx2", "httpcore", "openai", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class RequestContextMiddleware:
    """Pure ASGI middleware (no response buffering): take or make x-request-id, echo it back."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode() or f"req-{uuid.uuid4().hex[:16]}"
        request_id_var.set(request_id)
        conversation_id_var.set(headers.get(b"x-conversation-id", b"-").decode())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                if b"x-request-id" not in names:
                    message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)
