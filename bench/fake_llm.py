"""A fake OpenAI-compatible LLM for load tests and benchmarks: it answers at once, or streams a set
number of tokens a set time apart, so that what is measured is Chorus and not a model.

    python -m bench.fake_llm --port 18180 --tokens 20 --delay 0.05

It serves `GET /v1/models` and `POST /v1/chat/completions` (streamed or whole, with usage).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

MODEL = "fake-llm"
SENTENCE_WORDS = 8


def word(i: int) -> str:
    """The i-th word of every answer: distinct, and without digits (Chorus checks every number in an
    answer, and drops repeated sentences); every eighth ends a sentence, so answers stream by sentence."""
    letters = ""
    while True:
        i, rest = divmod(i, 26)
        letters = chr(ord("a") + rest) + letters
        if not i:
            break
    return "w" + letters


def token_text(i: int) -> str:
    return word(i) + ("." if (i + 1) % SENTENCE_WORDS == 0 else "") + " "


def create_app(tokens: int, delay: float, before_token: Callable[[int], Awaitable[None]] | None = None) -> FastAPI:
    """`before_token(i)`, if given, is awaited before the i-th token of a stream goes out (i >= 0):
    a test uses it to send tokens in lockstep with what its client has received."""
    app = FastAPI(title="fake LLM")

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        count = min(tokens, body.get("max_tokens") or tokens)
        finish = "length" if count < tokens else "stop"  # as a real server says it: cut at the cap
        words = [token_text(i) for i in range(count)]
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())
        usage = {"prompt_tokens": 10, "completion_tokens": count, "total_tokens": 10 + count}
        if not body.get("stream"):
            await asyncio.sleep(delay * count)
            return {"id": ident, "object": "chat.completion", "created": created, "model": MODEL, "usage": usage,
                    "choices": [{"index": 0, "finish_reason": finish,
                                 "message": {"role": "assistant", "content": "".join(words)}}]}

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            return "data: " + json.dumps({"id": ident, "object": "chat.completion.chunk", "created": created,
                                          "model": MODEL, "choices": [{"index": 0, "delta": delta,
                                                                       "finish_reason": finish}], **extra}) + "\n\n"

        async def stream():
            yield chunk({"role": "assistant", "content": ""})
            for i, word in enumerate(words):
                if delay:
                    await asyncio.sleep(delay)
                if before_token:
                    await before_token(i)
                yield chunk({"content": word})
            yield chunk({}, finish, usage=usage)
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_llm", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tokens", type=int, default=20, help="tokens in each answer")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between tokens")
    args = parser.parse_args()
    uvicorn.run(create_app(args.tokens, args.delay), host=args.host, port=args.port, log_level="warning",
                loop="uvloop", http="httptools", access_log=False)


if __name__ == "__main__":
    main()
