"""`/metrics` on every server, and the middleware that counts each request by its route template.

What is measured is defined in orchestration/metrics.py.
"""

from __future__ import annotations

import hmac
import time

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestration.metrics import ACTIVE_STREAMS, IN_FLIGHT, LATENCY, REQUESTS
from servers.access import bearer, refuse

METRICS_PATH = "/metrics"


class Metrics:
    """Pure ASGI (no buffering): counts every request by its route template, and serves /metrics."""

    def __init__(self, app: ASGIApp, process: str, token: str = ""):
        self.app = app
        self.process = process
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH:
            await self.serve(scope, send)
            return
        started = time.perf_counter()
        status, streaming = 500, False
        IN_FLIGHT.labels(self.process).inc()

        async def counted(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                streaming = any(
                    name.lower() == b"content-type" and value.startswith(b"text/event-stream")
                    for name, value in message.get("headers", [])
                )
                if streaming:
                    ACTIVE_STREAMS.labels(self.process).inc()
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            IN_FLIGHT.labels(self.process).dec()
            if streaming:
                ACTIVE_STREAMS.labels(self.process).dec()
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(self.process, scope["method"], route, str(status)).inc()
            LATENCY.labels(self.process, route).observe(time.perf_counter() - started)

    async def serve(self, scope: Scope, send: Send) -> None:
        if self.token and not hmac.compare_digest((bearer(scope) or "").encode(), self.token):
            await refuse(
                send,
                401,
                {
                    "error": {
                        "message": "The metrics need the metrics token.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_metrics_token",
                    }
                },
            )
            return
        body = generate_latest()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", CONTENT_TYPE_LATEST.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
