"""A fake OpenAI-compatible LLM, a real HTTP server named as a fake: for the tests of the wire contract
and of the team's mechanics, which do not depend on a model, and for load tests and benchmarks, so
that what is measured is Chorus and not a model.

    python -m bench.fake_llm --port 18180 --tokens 20 --delay 0.05

It serves `GET /v1/models` and `POST /v1/chat/completions`, streamed or whole, with usage, and keeps
the contract a real server keeps for what Chorus sends it:
- prose: `tokens` words, `delay` seconds apart, cut at `max_tokens` ("length") or at a `stop` string;
- `logprobs` with `top_logprobs` alternatives, for every token;
- `response_format` json_schema: a value valid under the schema; json_object: an object;
- `tools` with a `tool_choice` naming a function (or `required`): a call of it, its arguments valid
  under its parameters.
Values are taken from the last user message where the schema allows (its first number for a number,
its capitalised words for a string), as a model would take them from the conversation.

`GET /fake/requests` lists the last requests it took, each with the last user message, every message
it was given, its parameters, and how its generation ended: "running", "finished", or "cut" when the caller hung up first (as a real server
stops generating then). Tests read it to see what reached the LLM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

MODEL = "fake-llm"
SENTENCE_WORDS = 8
ARGUMENT_PIECE = 8  # characters of a call's arguments in each streamed chunk
KEPT_REQUESTS = 500


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


def prose(count: int, stop: list[str]) -> tuple[list[str], bool]:
    """The answer's tokens, and whether a stop string cut it (the stop string itself is not sent)."""
    text, tokens = "", []
    for i in range(count):
        piece = token_text(i)
        cut = min((at for s in stop if (at := (text + piece).find(s)) >= 0), default=-1)
        if cut >= 0:
            if cut > len(text):
                tokens.append((text + piece)[len(text) : cut])
            return tokens, True
        text += piece
        tokens.append(piece)
    return tokens, False


def logprob(token: str, top: int) -> dict[str, Any]:
    alternatives = [{"token": token, "logprob": -0.1, "bytes": list(token.encode())}]
    alternatives += [{"token": f"alt{k}", "logprob": -2.0 - k, "bytes": list(f"alt{k}".encode())} for k in range(top)]
    return {"token": token, "logprob": -0.1, "bytes": list(token.encode()), "top_logprobs": alternatives[:top]}


class Conversation:
    """What the fake takes its values from: the last user message."""

    def __init__(self, messages: list[dict[str, Any]]):
        said = [m.get("content") for m in messages if m.get("role") == "user"]
        last = said[-1] if said else ""
        self.text = last if isinstance(last, str) else " ".join(p.get("text", "") for p in last or [])
        self.numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", self.text)]
        names = re.findall(r"\b[A-Z][a-z]+\b", self.text)
        self.names = [n for n in names if n not in {"What", "Whats", "How", "Use", "Call", "The", "Please", "Weather"}]

    def number(self) -> float | None:
        return self.numbers[0] if self.numbers else None

    def name(self) -> str:
        return self.names[0] if self.names else "wa"


def instance(schema: Any, said: Conversation, root: dict[str, Any] | None = None) -> Any:
    """A value valid under a JSON schema (the parts of it structured output uses)."""
    root = root if root is not None else schema
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return instance(target, said, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combined in ("anyOf", "oneOf", "allOf"):
        if schema.get(combined):
            options = [s for s in schema[combined] if s.get("type") != "null"] or schema[combined]
            return instance(options[0], said, root)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        wanted = schema.get("required") or list(properties)
        return {name: instance(properties.get(name, {}), said, root) for name in wanted}
    if kind == "array":
        return [instance(schema.get("items", {}), said, root) for _ in range(max(schema.get("minItems", 1), 1))]
    if kind in ("integer", "number"):
        found = said.number()
        value = found if found is not None else schema.get("minimum", 1)
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = said.name()
    return text[: schema["maxLength"]] if "maxLength" in schema else text


def called_function(body: dict[str, Any]) -> dict[str, Any] | None:
    """The function a request makes the model call: the one tool_choice names, or, when it says
    `required`, the first; under `auto` the fake answers in words."""
    tools = [t["function"] for t in body.get("tools") or [] if t.get("type") == "function"]
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = choice.get("function", {}).get("name")
        return next((t for t in tools if t["name"] == name), None)
    return tools[0] if tools and choice == "required" else None


class Scripted(Protocol):
    """Replies set for the requests that match (bench/capable_model.py): None leaves one to the fake."""

    def reply(self, body: dict[str, Any]) -> dict[str, Any] | None: ...

    def add(self, script: dict[str, Any]) -> None: ...


def create_app(
    tokens: int,
    delay: float,
    before_token: Callable[[int], Awaitable[None]] | None = None,
    scripted: Scripted | None = None,
) -> FastAPI:
    """`before_token(i)`, if given, is awaited before the i-th token of a stream goes out (i >= 0):
    a test uses it to send tokens in lockstep with what its client has received. `scripted`, if given,
    answers the requests its scripts match (`POST /fake/script` adds one)."""
    app = FastAPI(title="fake LLM")
    received: deque[dict[str, Any]] = deque(maxlen=KEPT_REQUESTS)

    if scripted is not None:
        script_store = scripted

        @app.post("/fake/script")
        async def script(request: Request) -> dict:
            script_store.add(await request.json())
            return {"ok": True}

    @app.get("/fake/requests")
    async def requests() -> list[dict[str, Any]]:
        return list(received)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        said = Conversation(body.get("messages") or [])
        record = {
            "said": said.text,
            "stream": bool(body.get("stream")),
            "outcome": "running",
            "context": [m.get("content") for m in body.get("messages") or []],
            "params": {k: v for k, v in body.items() if k not in ("messages", "tools", "response_format")},
            "tools": [t.get("function", {}).get("name") for t in body.get("tools") or []],
            "format": ((body.get("response_format") or {}).get("json_schema") or {}).get("name"),
            "roles": [m.get("role") for m in body.get("messages") or []],
        }
        received.append(record)
        function = called_function(body)
        fmt = body.get("response_format") or {}
        top = (body.get("top_logprobs") or 0) if body.get("logprobs") else None
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())
        message: dict[str, Any] = {"role": "assistant", "content": None}
        pieces: list[str] = []
        written = scripted.reply(body) if scripted is not None else None
        if written is not None:
            record["scripted"] = True
            message |= written
            pieces = re.findall(r"\S+\s*", written.get("content") or "")
            finish = "tool_calls" if written.get("tool_calls") else "stop"
        elif function is not None:
            arguments = json.dumps(instance(function.get("parameters") or {"type": "object"}, said))
            call = {
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": function["name"], "arguments": arguments},
            }
            message["tool_calls"], finish = [call], "tool_calls"
        elif fmt.get("type") in ("json_schema", "json_object"):
            schema = (fmt.get("json_schema") or {}).get("schema") or {
                "type": "object",
                "properties": {"answer": {"type": "string"}},
            }
            message["content"] = json.dumps(instance(schema, said))
            pieces, finish = [message["content"]], "stop"
        else:
            count = min(tokens, body.get("max_tokens") or body.get("max_completion_tokens") or tokens)
            stop = body.get("stop") or []
            pieces, stopped = prose(count, [stop] if isinstance(stop, str) else stop)
            finish = "length" if count < tokens and not stopped else "stop"  # as a real server says it: cut at the cap
            message["content"] = "".join(pieces)
        usage = {"prompt_tokens": 10, "completion_tokens": len(pieces), "total_tokens": 10 + len(pieces)}
        if not body.get("stream"):
            for _ in pieces:  # generating, a token at a time; a caller that hangs up stops it
                if delay:
                    await asyncio.sleep(delay)
                if await request.is_disconnected():
                    record["outcome"] = "cut"
                    return None
            record["outcome"] = "finished"
            choice: dict[str, Any] = {"index": 0, "finish_reason": finish, "message": message}
            if top is not None:
                choice["logprobs"] = {"content": [logprob(p, top) for p in pieces]}
            return {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": MODEL,
                "usage": usage,
                "choices": [choice],
            }

        def chunk(delta: dict, finish: str | None = None, logprobs: list | None = None, **extra) -> str:
            choice = {
                "index": 0,
                "delta": delta,
                "finish_reason": finish,
                **({"logprobs": {"content": logprobs}} if logprobs is not None else {}),
            }
            return (
                "data: "
                + json.dumps(
                    {
                        "id": ident,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": MODEL,
                        "choices": [choice],
                        **extra,
                    }
                )
                + "\n\n"
            )

        async def stream() -> AsyncIterator[str]:
            ended = False
            try:
                yield chunk({"role": "assistant", "content": ""})
                for at, call in enumerate(message.get("tool_calls") or []):
                    arguments = call["function"]["arguments"]
                    yield chunk(
                        {
                            "tool_calls": [
                                {
                                    "index": at,
                                    "id": call["id"],
                                    "type": "function",
                                    "function": {"name": call["function"]["name"], "arguments": ""},
                                }
                            ]
                        }
                    )
                    for cut in range(0, len(arguments), ARGUMENT_PIECE):
                        yield chunk(
                            {
                                "tool_calls": [
                                    {"index": at, "function": {"arguments": arguments[cut : cut + ARGUMENT_PIECE]}}
                                ]
                            }
                        )
                for i, piece in enumerate(pieces):
                    if delay:
                        await asyncio.sleep(delay)
                    if before_token:
                        await before_token(i)
                    yield chunk({"content": piece}, logprobs=[logprob(piece, top)] if top is not None else None)
                yield chunk({}, finish, usage=usage)
                yield "data: [DONE]\n\n"
                ended = True
            finally:  # closed before its end: the caller hung up
                record["outcome"] = "finished" if ended else "cut"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return app


def main(program: str = "bench.fake_llm", description: str | None = __doc__, scripted: Scripted | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {program}", description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tokens", type=int, default=20, help="tokens in each answer (unscripted)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between tokens")
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.tokens, args.delay, scripted=scripted),
        host=args.host,
        port=args.port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
        access_log=False,
    )


if __name__ == "__main__":
    main()
