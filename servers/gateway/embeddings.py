"""`/v1/embeddings`: forwarded to the configured OpenAI-compatible embeddings endpoint."""

from __future__ import annotations

import base64
import struct

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from config import Settings
from servers.gateway import wire
from servers.gateway.errors import BadRequest, ServiceUnavailable


async def forward_embeddings(body: wire.EmbeddingRequest, request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not settings.embeddings_base_url:
        raise BadRequest(
            "No embeddings endpoint is configured. Set EMBEDDINGS_BASE_URL (and EMBEDDINGS_MODEL) "
            "to an OpenAI-compatible embeddings server.",
            param="model",
            code="embeddings_not_configured",
        )
    payload = body.model_dump(exclude_none=True) | {"encoding_format": "float"}
    if settings.embeddings_model:
        payload["model"] = settings.embeddings_model
    try:
        upstream = await request.app.state.http.post(
            f"{settings.embeddings_base_url}/embeddings",
            json=payload,
            timeout=60,
            headers={"authorization": f"Bearer {settings.embeddings_api_key.get_secret_value()}"},
        )
    except Exception as error:
        raise ServiceUnavailable(
            f"The embeddings endpoint did not answer: {type(error).__name__}", code="embeddings_unavailable"
        ) from error
    if upstream.status_code != 200:
        raise ServiceUnavailable(
            f"The embeddings endpoint answered HTTP {upstream.status_code}.", code="embeddings_unavailable"
        )
    data = upstream.json()
    data["model"] = body.model
    if body.encoding_format == "base64":
        for item in data.get("data", []):
            vector = item["embedding"]
            item["embedding"] = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return JSONResponse(data)
