"""Limits on what one request may ask, and on how much one key may use.

- Size caps (messages, characters, max_tokens, n) are checked on the parsed request, before the
  history is read or the team called: a 400 naming the parameter.
- Concurrency per key (per gateway replica) and the per-minute request and token rates (kept in
  Redis, so every replica shares them) are checked before the body is read: a 429 with
  `retry-after`. When rate limits are on, every response carries OpenAI's `x-ratelimit-*` headers.
"""

from __future__ import annotations

import math
import time
from collections import Counter as Tally
from dataclasses import dataclass

import redis.asyncio as redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config import Settings
from orchestration.metrics import RATE_LIMITED
from orchestration.protocol import Message as ChatMessage
from servers.gateway.conversations import REDIS_FAILURES, SHARED_OWNER
from servers.gateway.errors import BadRequest, RateLimited, ServiceUnavailable
from servers.gateway.guard import refuse

WINDOW_SECONDS = 60
KEY_PREFIX = "chorus:ratelimit:"
LIMITED_PATHS = ("/chat/completions", "/completions", "/responses", "/embeddings")  # the paths that do work


def check_sizes(settings: Settings, prompts: list[list[ChatMessage]], max_tokens: int | None, n: int | None) -> None:
    """A request larger than the limits is refused before any work."""
    count = max(len(sent) for sent in prompts)
    if count > settings.max_messages:
        raise BadRequest(
            f"The request has {count} messages; at most {settings.max_messages} are allowed.",
            param="messages",
            code="too_many_messages",
        )
    longest = max((len(m.content) for sent in prompts for m in sent), default=0)
    if longest > settings.max_message_chars:
        raise BadRequest(
            f"A message has {longest} characters; at most {settings.max_message_chars} are allowed.",
            param="messages",
            code="message_too_long",
        )
    if max_tokens is not None and max_tokens > settings.max_output_tokens:
        raise BadRequest(
            f"max_tokens is {max_tokens}; at most {settings.max_output_tokens} is allowed.",
            param="max_tokens",
            code="max_tokens_too_large",
        )
    if n is not None and n > settings.max_choices:
        raise BadRequest(f"n is {n}; at most {settings.max_choices} is allowed.", param="n", code="n_too_large")


@dataclass
class Window:
    """One key's use of the current minute."""

    requests: int
    tokens: int
    reset_seconds: float


class RateLimits:
    """Per-key counters in Redis, one pair per fixed minute window (expiring with it)."""

    def __init__(self, client: redis.Redis, requests_per_minute: int | None, tokens_per_minute: int | None):
        self.redis = client
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute

    @property
    def on(self) -> bool:
        return bool(self.requests_per_minute or self.tokens_per_minute)

    def _keys(self, owner: str) -> tuple[str, str, float]:
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        reset = (window + 1) * WINDOW_SECONDS - now
        return f"{KEY_PREFIX}{owner}:{window}:requests", f"{KEY_PREFIX}{owner}:{window}:tokens", reset

    async def admit(self, owner: str) -> Window:
        """Count this request, and read the tokens used so far in the window."""
        requests_key, tokens_key, reset = self._keys(owner)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(requests_key)
            pipe.expire(requests_key, WINDOW_SECONDS * 2)
            pipe.get(tokens_key)
            count, _, tokens = await pipe.execute()
        return Window(int(count), int(tokens or 0), reset)

    async def charge(self, owner: str, tokens: int) -> None:
        """The tokens a finished request used (prompt and completion), against the window it ends in."""
        if not self.tokens_per_minute or tokens <= 0:
            return
        _, tokens_key, _ = self._keys(owner)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incrby(tokens_key, tokens)
            pipe.expire(tokens_key, WINDOW_SECONDS * 2)
            await pipe.execute()

    def headers(self, window: Window) -> list[tuple[bytes, bytes]]:
        reset = f"{math.ceil(window.reset_seconds)}s".encode()
        headers = []
        if self.requests_per_minute:
            headers += [
                (b"x-ratelimit-limit-requests", str(self.requests_per_minute).encode()),
                (b"x-ratelimit-remaining-requests", str(max(self.requests_per_minute - window.requests, 0)).encode()),
                (b"x-ratelimit-reset-requests", reset),
            ]
        if self.tokens_per_minute:
            headers += [
                (b"x-ratelimit-limit-tokens", str(self.tokens_per_minute).encode()),
                (b"x-ratelimit-remaining-tokens", str(max(self.tokens_per_minute - window.tokens, 0)).encode()),
                (b"x-ratelimit-reset-tokens", reset),
            ]
        return headers

    def refusal(self, window: Window) -> RateLimited | None:
        if self.requests_per_minute and window.requests > self.requests_per_minute:
            RATE_LIMITED.labels("requests").inc()
            return RateLimited(
                f"Rate limit reached: {self.requests_per_minute} requests per minute for this key. "
                f"Try again in {math.ceil(window.reset_seconds)}s.",
                code="rate_limit_exceeded",
            )
        if self.tokens_per_minute and window.tokens >= self.tokens_per_minute:
            RATE_LIMITED.labels("tokens").inc()
            return RateLimited(
                f"Rate limit reached: {self.tokens_per_minute} tokens per minute for this key. "
                f"Try again in {math.ceil(window.reset_seconds)}s.",
                code="rate_limit_exceeded",
            )
        return None


class Limiter:
    """ASGI middleware, inside the Guard (which names the key's owner): concurrency and rates."""

    def __init__(self, app: ASGIApp, max_concurrent: int):
        self.app = app
        self.max_concurrent = max_concurrent
        self.running: Tally[str] = Tally()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(LIMITED_PATHS):
            await self.app(scope, receive, send)
            return
        owner = scope.get("state", {}).get("owner", SHARED_OWNER)
        limits: RateLimits = scope["app"].state.rate_limits
        extra: list[tuple[bytes, bytes]] = []
        if limits.on:
            try:
                window = await limits.admit(owner)
            except REDIS_FAILURES:
                await refuse(
                    send,
                    ServiceUnavailable(
                        "The rate-limit store (Redis) is unavailable.", code="rate_limit_store_unavailable"
                    ),
                )
                return
            extra = limits.headers(window)
            if refused := limits.refusal(window):
                await refuse(send, refused, extra + [(b"retry-after", str(math.ceil(window.reset_seconds)).encode())])
                return
        if self.running[owner] >= self.max_concurrent:
            RATE_LIMITED.labels("concurrency").inc()
            await refuse(
                send,
                RateLimited(
                    f"This key already has {self.max_concurrent} requests running; wait for one to finish.",
                    code="too_many_concurrent_requests",
                ),
                extra + [(b"retry-after", b"1")],
            )
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        self.running[owner] += 1
        try:
            await self.app(scope, receive, with_headers)
        finally:
            self.running[owner] -= 1
            if not self.running[owner]:
                del self.running[owner]  # the tally holds only keys with requests running
