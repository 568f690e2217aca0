"""What is checked before any work, as ASGI middleware: the API key, then the body's size as it is read.

FastAPI reads and parses the whole body before route dependencies run, so these checks sit below
it. A key is refused before a byte of the body is read; a body is refused when its Content-Length
says it is too large or, for a chunked body, as soon as the bytes read pass the limit: the app is
then told the client left, so it stops reading and nothing it sends goes out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servers.access import OPEN_PATHS, bearer
from servers.access import refuse as refuse_with
from servers.gateway.conversations import SHARED_OWNER
from servers.gateway.errors import APIError, PayloadTooLarge, Unauthorized

HASH_PREFIX = "sha256:"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_digests(keys: str, keys_file: Path | None) -> frozenset[str]:
    """The keys' SHA-256 digests: from API_KEYS (comma-separated) and a keys file (one a line, plain
    or already hashed as `sha256:<hex>`, so the file need not hold a key in the clear)."""
    entries = [k.strip() for k in keys.split(",")]
    if keys_file is not None:
        entries += [line.strip() for line in keys_file.read_text().splitlines() if not line.startswith("#")]
    return frozenset(
        e.removeprefix(HASH_PREFIX).lower() if e.startswith(HASH_PREFIX) else digest(e) for e in entries if e
    )


def owner_of(key: str) -> str:
    """The name a key's conversations are kept under: derived from it, never the key or its digest."""
    return hashlib.sha256(b"chorus-owner:" + key.encode()).hexdigest()[:24]


def key_matches(presented: str, digests: frozenset[str]) -> bool:
    """Compare in constant time, against every digest (no early exit that would time the match)."""
    offered = digest(presented)
    found = False
    for known in digests:
        found |= hmac.compare_digest(offered, known)
    return found


class Guard:
    """Auth and the body limit for every route but the open ones (health, readiness, metrics, and the
    playground page, which holds nothing: its calls to the API carry the key)."""

    def __init__(self, app: ASGIApp, digests: frozenset[str], max_bytes: int, open_paths: frozenset[str] = OPEN_PATHS):
        self.app = app
        self.digests = digests
        self.max_bytes = max_bytes
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        owner = SHARED_OWNER
        if self.digests:
            key = bearer(scope)
            if key is None or not key_matches(key, self.digests):
                await refuse(
                    send,
                    Unauthorized(
                        "Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.",
                        code="invalid_api_key",
                    ),
                )
                return
            owner = owner_of(key)
        scope.setdefault("state", {})["owner"] = owner  # request.state.owner: whose conversations these are
        length = dict(scope.get("headers", [])).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await refuse(send, self._too_large())
            return
        await self._read_within_limit(scope, receive, send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body is larger than {self.max_bytes} bytes.", code="request_too_large")

    async def _read_within_limit(self, scope: Scope, receive: Receive, send: Send) -> None:
        read, refused = 0, False

        async def counted() -> Message:
            nonlocal read, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.max_bytes:
                    refused = True
                    await refuse(send, self._too_large())
                    return {"type": "http.disconnect"}  # the app stops reading, as if the client left
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, unless_refused)


async def refuse(send: Send, error: APIError, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    await refuse_with(send, error.status, error.body(), headers)
