"""Conversations in Redis: one list of messages per conversation id, appended a whole turn at a time."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from orchestration.protocol import Message

KEY_PREFIX = "chorus:conversation:"
META_SUFFIX = ":meta"


class ConversationStore:
    def __init__(self, client: redis.Redis, ttl_seconds: int, max_messages: int):
        self.redis = client
        self.ttl = ttl_seconds
        self.max_messages = max_messages

    @classmethod
    def from_url(cls, url: str, ttl_seconds: int, max_messages: int) -> ConversationStore:
        client = redis.Redis.from_url(
            url, socket_timeout=3, socket_connect_timeout=2, health_check_interval=30,
            max_connections=256,
        )
        return cls(client, ttl_seconds, max_messages)

    async def ping(self) -> None:
        await self.redis.ping()

    async def load(self, conversation_id: str) -> list[Message]:
        try:
            raw = await self.redis.lrange(KEY_PREFIX + conversation_id, 0, -1)
        except RedisError as error:
            raise unavailable(error) from error
        return [Message.model_validate_json(item) for item in raw]

    async def append_turn(self, conversation_id: str, messages: list[Message], user: str | None = None) -> None:
        """Store a whole turn in one transaction: other turns never interleave with it. `user` is the
        client's end-user id (OpenAI's `user`), recorded with the conversation."""
        key = KEY_PREFIX + conversation_id
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, *(m.model_dump_json(exclude_none=True) for m in messages))
                pipe.ltrim(key, -self.max_messages, -1)
                pipe.expire(key, self.ttl)
                if user:
                    pipe.hset(key + META_SUFFIX, "user", user)
                pipe.expire(key + META_SUFFIX, self.ttl)
                await pipe.execute()
        except RedisError as error:
            raise unavailable(error) from error

    async def details(self, conversation_id: str) -> dict[str, str]:
        """What is recorded about the conversation besides its messages (the user)."""
        try:
            raw = await self.redis.hgetall(KEY_PREFIX + conversation_id + META_SUFFIX)
        except RedisError as error:
            raise unavailable(error) from error
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def delete(self, conversation_id: str) -> bool:
        try:
            key = KEY_PREFIX + conversation_id
            return bool(await self.redis.delete(key, key + META_SUFFIX))
        except RedisError as error:
            raise unavailable(error) from error

    async def close(self) -> None:
        await self.redis.aclose()


class StoreUnavailable(Exception):
    """Redis did not answer; the message says so to the client (the gateway renders it as a 503)."""


def unavailable(error: Exception) -> StoreUnavailable:
    return StoreUnavailable(
        f"The conversation store (Redis) is unavailable: {type(error).__name__}. Nothing was stored; "
        "try again when it is back.")


def _same(a: Message, b: Message) -> bool:
    return (a.role == b.role and a.content.strip() == b.content.strip() and a.tool_call_id == b.tool_call_id
            and [c.id for c in a.tool_calls or []] == [c.id for c in b.tool_calls or []])


def new_messages(stored: list[Message], sent: list[Message]) -> list[Message]:
    """The part of what the client sent that the store does not hold yet.

    A client may resend the whole history (as the OpenAI API expects) or send only the new turn.
    We find the latest point in `sent` whose preceding messages end like the stored history and
    keep what follows, so history is never stored twice.
    """
    if not stored:
        return sent
    for end in range(len(sent), 0, -1):
        overlap = min(end, len(stored))
        if all(_same(a, b) for a, b in zip(sent[end - overlap : end], stored[-overlap:])):
            return sent[end:]
    return sent


def as_jsonable(messages: list[Message]) -> list[dict[str, Any]]:
    return [json.loads(m.model_dump_json(exclude_none=True)) for m in messages]
