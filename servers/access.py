"""Who may call a server, decided before the body is read (ASGI, below FastAPI's body parsing).

The supervisor and the agents answer only callers holding the internal token (the gateway and the
supervisor); health, readiness and metrics stay open on every server.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = frozenset({"/health", "/ready", "/metrics"})


def bearer(scope: Scope) -> str | None:
    """The request's `Authorization: Bearer` credential, or None."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            return key.strip() if scheme.lower() == "bearer" else None
    return None


async def refuse(send: Send, status: int, body: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": data})


class InternalOnly:
    """Every route but the open ones needs the internal token."""

    def __init__(self, app: ASGIApp, token: str, process: str):
        self.app = app
        self.token = token.encode()
        self.process = process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            offered = (bearer(scope) or "").encode()
            if not hmac.compare_digest(offered, self.token):
                await refuse(
                    send,
                    401,
                    {
                        "message": f"The {self.process} answers only the team: send the internal token.",
                        "type": "unauthorized",
                        "agent": self.process,
                    },
                )
                return
        await self.app(scope, receive, send)
