"""What is checked before any work: the API key and the body's size."""

from __future__ import annotations

from fastapi import Request

from servers.gateway.errors import PayloadTooLarge, Unauthorized


async def authorize(request: Request) -> None:
    keys = request.app.state.settings.gateway_api_keys
    if not keys:
        return
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or key.strip() not in keys:
        raise Unauthorized("Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.",
                           code="invalid_api_key")


async def limit_body(request: Request) -> None:
    limit = request.app.state.settings.max_request_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.", code="request_too_large")
