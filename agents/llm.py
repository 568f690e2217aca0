"""The LLM an agent talks to: any OpenAI-compatible endpoint.

Prose is streamed straight off the wire (`ProseStream`): langchain-openai builds a pydantic object
and a message chunk for every token, which costs more CPU than the rest of an agent's hop (`make
bench` shows what a hop costs). Replies that are JSON or a function call keep ChatOpenAI
(`make_chat_model`), whose structured-output handling they need.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import orjson
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_openai import ChatOpenAI

from config import Settings
from config.settings import LLMRole
from orchestration.http import CONNECT_TIMEOUT
from orchestration.protocol import AgentCallError
from orchestration.sse import events_of

ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def as_openai_message(message: BaseMessage) -> dict[str, Any]:
    if isinstance(message, ToolMessage):
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": str(message.content)}
    if isinstance(message, AIMessage) and message.tool_calls:
        return {
            "role": "assistant",
            "content": str(message.content) or None,
            "tool_calls": [
                {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["args"])}}
                for c in message.tool_calls
            ],
        }
    return {"role": ROLES.get(message.type, "user"), "content": str(message.content)}


def make_chat_model(settings: Settings, role: LLMRole, http: httpx.AsyncClient) -> ChatOpenAI:
    llm = settings.llm_for(role)
    return ChatOpenAI(
        base_url=llm.base_url,
        model=llm.model,
        api_key=llm.api_key,
        temperature=llm.temperature,
        # no read timeout: a whole generation, or one queued behind others, sends nothing until it is
        # done; the request's deadline (the agent's task route) bounds the call instead
        timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT),
        max_retries=0,  # a failure is retried in one layer only (the TaskClient): an LLM that is down fails fast
        http_async_client=http,  # the process's shared, pooled client
    )


@dataclass
class Delta:
    """One streamed piece of a reply."""

    text: str = ""
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # pieces of calls, by index


class CallPieces:
    """A reply's tool calls, put together from the pieces a stream sends them in."""

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, str]] = {}

    def add(self, pieces: list[dict[str, Any]]) -> None:
        for at, piece in enumerate(pieces):
            call = self.calls.setdefault(piece.get("index", at), {"id": "", "name": "", "arguments": ""})
            function = piece.get("function") or {}
            call["id"] = piece.get("id") or call["id"]
            call["name"] += function.get("name") or ""
            call["arguments"] += function.get("arguments") or ""

    def done(self) -> list[dict[str, str]]:
        return [self.calls[i] for i in sorted(self.calls)]


@dataclass
class LLMClock:
    """Time spent waiting on the LLM, so a response can say what Chorus itself added."""

    waited: float = 0.0


class ProseStream:
    """A chat completion from one agent's LLM, straight off the process's aiohttp pool, parsed with orjson."""

    def __init__(self, settings: Settings, role: LLMRole, session: aiohttp.ClientSession):
        llm = settings.llm_for(role)
        self.agent, self.model, self.base_url = role, llm.model, llm.base_url
        self.temperature = llm.temperature
        self.url = f"{llm.base_url}/chat/completions"
        self.headers = {"authorization": f"Bearer {llm.api_key.get_secret_value()}", "content-type": "application/json"}
        # The request's deadline bounds the whole call (the agent's task route enforces it): a queued or
        # whole generation sends nothing for a long time and is not stalled. Only once tokens have begun
        # does a silence of `timeout` fail the call.
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT, sock_read=None)
        self.silence = llm.timeout
        self.session = session

    def body(self, messages: list[BaseMessage], kwargs: dict[str, Any], streamed: bool) -> bytes:
        extra = kwargs.pop("extra_body", None) or {}
        body = {
            "model": self.model,
            "messages": [as_openai_message(m) for m in messages],
            "stream": streamed,
            **({"stream_options": {"include_usage": True}} if streamed else {}),
            **({"temperature": self.temperature} if self.temperature is not None else {}),
            **kwargs,
            **extra,
        }
        return orjson.dumps(body)

    def _broke_off(self, error: Exception) -> AgentCallError:
        return AgentCallError(
            f"the {self.agent}'s LLM at {self.base_url} broke off its answer: {type(error).__name__}: {error}", llm=True
        )

    async def stream(
        self, messages: list[BaseMessage], clock: LLMClock, streamed: bool = True, **kwargs: Any
    ) -> AsyncIterator[Delta]:
        """The reply's pieces as they come; an LLM that cannot be reached or refuses is named in a clear
        AgentCallError. The time spent waiting on the LLM is added to `clock`. Not `streamed` (nobody
        reads the reply as it is written), the reply is asked for whole and comes as one piece: the
        LLM server then sends one response, not a chunk a token."""
        body = self.body(messages, kwargs, streamed)
        waited_since = time.perf_counter()
        try:
            response = await self.session.post(self.url, data=body, headers=self.headers, timeout=self.timeout)
        except aiohttp.ClientError as error:  # refused or reset: no retry (one layer)
            clock.waited += time.perf_counter() - waited_since
            raise AgentCallError(
                f"the {self.agent}'s LLM at {self.base_url} {_failed_how(error)}: {type(error).__name__}: {error}",
                llm=True,
            ) from error
        try:
            if response.status != 200:
                text = (await response.read()).decode(errors="replace")
                raise AgentCallError(
                    f"the {self.agent}'s LLM at {self.base_url} answered HTTP {response.status}: {text[:200]}", llm=True
                )
            if not streamed:
                try:
                    whole = await response.read()
                except aiohttp.ClientError as error:
                    raise self._broke_off(error) from error
                finally:
                    clock.waited += time.perf_counter() - waited_since
                if delta := _delta(orjson.loads(whole), whole=True):
                    yield delta
                return
            events = events_of(response.content.iter_any())
            begun = False
            while True:
                try:
                    async with asyncio.timeout(self.silence if begun else None):
                        _, data = await anext(events)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise AgentCallError(
                        f"the {self.agent}'s LLM at {self.base_url} went silent for "
                        f"{self.silence:g}s in the middle of its answer",
                        llm=True,
                    ) from None
                except aiohttp.ClientError as error:
                    raise self._broke_off(error) from error
                finally:
                    clock.waited += time.perf_counter() - waited_since
                begun = True
                if data.strip() == b"[DONE]":
                    break
                if delta := _delta(orjson.loads(data)):
                    yield delta
                waited_since = time.perf_counter()
        finally:
            # back to the pool when the reply was read to its end; otherwise the connection is
            # closed, which stops the generation upstream
            response.release()


def _failed_how(error: aiohttp.ClientError) -> str:
    """Said of the LLM: "unreachable" only when no connection could be made."""
    if isinstance(error, aiohttp.ClientConnectorError):
        return "is unreachable (the connection was refused)"
    if isinstance(error, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        return "closed the connection"
    return "failed"


def _delta(chunk: dict[str, Any], whole: bool = False) -> Delta | None:
    """The first choice of a streamed chunk, or of a whole reply."""
    if "error" in chunk:
        raise AgentCallError(f"the LLM broke off its answer: {str(chunk['error'])[:200]}", llm=True)
    delta = Delta(usage=chunk.get("usage"))
    for choice in chunk.get("choices") or []:
        if choice.get("index", 0) != 0:
            continue
        said = choice.get("message" if whole else "delta") or {}
        delta.text = said.get("content") or ""
        delta.tool_calls = said.get("tool_calls") or []
        delta.logprobs = (choice.get("logprobs") or {}).get("content") or []
        delta.finish_reason = choice.get("finish_reason")
    return delta if delta.text or delta.logprobs or delta.finish_reason or delta.usage or delta.tool_calls else None
