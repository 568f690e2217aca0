"""Conversations in Redis: one list of messages per conversation id, owned by the key that made it.

The history is kept as the client sees it. A turn is stored in one transaction against the version
it read, so concurrent turns neither interleave nor deduplicate against a stale copy: one script
applies the turn only if the history is still the one it was revised from, else the turn is revised
again against a fresh read. The history is capped in messages and in bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from orchestration.protocol import Message

log = logging.getLogger(__name__)

KEY_PREFIX = "chorus:conversation:"
FINGERPRINT_PREFIX = "chorus:fingerprint:"  # a history's fingerprint -> the conversation's key
OWNER_INDEX = "chorus:owner:{}:conversations"  # an owner's conversations, scored by last update (ms)
INDEX_CAP = 1000  # an owner's list keeps its newest conversations; older ones stay reachable by id
TITLE_CHARS = 80
META_SUFFIX = ":meta"
SHARED_OWNER = "-"  # with no API keys, everyone is one owner
# What a failing Redis raises: redis-py's own errors, and, when a connection drops while it is
# being made, the socket's OSError or uvloop's RuntimeError on a closed transport.
REDIS_FAILURES = (RedisError, OSError, RuntimeError)
STORE_ATTEMPTS = 8  # a turn that keeps meeting newer versions gives up (StoreUnavailable)


# Applies a turn only if the history is still the one read (compared by digest): 1 stored, 0 changed
# meanwhile, -1 owned by another key. KEYS: list, meta, the owner's index, and the next fingerprint's
# key if any. ARGV: digest, owner, ttl, keep, length read, drop, user, client (JSON), now (ms), title,
# conversation id, items...
STORE_IF_UNCHANGED = """
local owner = redis.call('HGET', KEYS[2], 'owner')
if owner and owner ~= ARGV[2] then return -1 end
if redis.sha1hex(table.concat(redis.call('LRANGE', KEYS[1], 0, -1), '\\n')) ~= ARGV[1] then return 0 end
local keep, length, drop = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if keep < length then
  if keep > 0 then redis.call('LTRIM', KEYS[1], 0, keep - 1) else redis.call('DEL', KEYS[1]) end
end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 12))
if drop > 0 then redis.call('LTRIM', KEYS[1], drop, -1) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('HSETNX', KEYS[2], 'owner', ARGV[2])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[2], 'user', ARGV[7]) end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[2], 'client', ARGV[8]) end
redis.call('HSET', KEYS[2], 'title', ARGV[10], 'updated', ARGV[9])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[9], ARGV[11])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -INDEX_CAP - 1)
redis.call('EXPIRE', KEYS[3], ARGV[3])
if KEYS[4] then redis.call('SET', KEYS[4], KEYS[1], 'EX', ARGV[3]) end
return 1
""".replace("INDEX_CAP", str(INDEX_CAP))


@dataclass
class History:
    """A conversation as one request read it: its messages, and their stored form."""

    messages: list[Message]
    raw: list[bytes]

    @property
    def digest(self) -> str:
        return hashlib.sha1(b"\n".join(self.raw)).hexdigest()


@dataclass
class Listed:
    """A conversation as its owner's list shows it."""

    id: str
    title: str
    updated_ms: int
    messages: int


@dataclass
class Revision:
    """What the store should hold after a turn: its first `keep` messages, then `fresh`."""

    keep: int
    fresh: list[Message]


class ConversationStore:
    def __init__(
        self,
        client: redis.Redis,
        ttl_seconds: int,
        max_messages: int,
        max_bytes: int = 1_000_000,
        wait_replicas: int = 0,
        wait_ms: int = 500,
    ):
        self.redis: Any = client  # redis-py types each reply as any of bytes, str and int; ours are bytes
        self.ttl = ttl_seconds
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.wait_replicas = wait_replicas  # with replicas, a turn is acknowledged once they hold it too
        self.wait_ms = wait_ms
        self.store_if_unchanged = client.register_script(STORE_IF_UNCHANGED)

    async def ping(self) -> None:
        await self.redis.ping()

    async def load(self, conversation_id: str, owner: str = SHARED_OWNER) -> list[Message]:
        return (await self.read(conversation_id, owner)).messages

    async def read(self, conversation_id: str, owner: str = SHARED_OWNER) -> History:
        key = KEY_PREFIX + conversation_id
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.lrange(key, 0, -1)
                pipe.hget(key + META_SUFFIX, "owner")
                raw, stored_owner = await pipe.execute()
        except REDIS_FAILURES as error:
            raise unavailable(error) from error
        _check_owner(stored_owner, owner, conversation_id)
        return History([Message.model_validate_json(item) for item in raw], raw)

    async def store_turn(
        self,
        conversation_id: str,
        revise: Callable[[list[Message]], Revision],
        answer: Message,
        owner: str = SHARED_OWNER,
        user: str | None = None,
        read: History | None = None,
        client: dict[str, Any] | None = None,
        fingerprint: str | None = None,
    ) -> None:
        """Store a turn against the history as it is now: `revise` says what of it stays and what
        is new; the answer follows. The turn is applied by one script, only if the history is still
        the one it was revised from (`read`, what the request read); when another turn got there
        first, the history is read again and the turn revised against it. `client` (what the calling
        platform said of itself) is recorded; `fingerprint` will find this conversation again."""
        key, meta = KEY_PREFIX + conversation_id, KEY_PREFIX + conversation_id + META_SUFFIX
        keys = [key, meta, OWNER_INDEX.format(owner), *([FINGERPRINT_PREFIX + fingerprint] if fingerprint else [])]
        client_json = json.dumps(client, separators=(",", ":")) if client else ""
        try:
            for _ in range(STORE_ATTEMPTS):
                current = read if read is not None else await self.read(conversation_id, owner)
                read = None
                revision = revise(current.messages)
                added = self._added(revision, answer)
                drop = self._overflow([item.decode() for item in current.raw[: revision.keep]] + added)
                stored = await self.store_if_unchanged(
                    keys=keys,
                    args=[
                        current.digest,
                        owner,
                        self.ttl,
                        revision.keep,
                        len(current.raw),
                        drop,
                        user or "",
                        client_json,
                        int(time.time() * 1000),
                        title_of(current.messages[: revision.keep] + revision.fresh),
                        conversation_id,
                        *added,
                    ],
                )
                if stored == -1:
                    raise NotOwned(conversation_id)
                if stored == 1:
                    await self._replicated(conversation_id)
                    return
        except REDIS_FAILURES as error:
            raise unavailable(error) from error
        raise StoreUnavailable(
            f"Conversation '{conversation_id}' kept changing while this turn was stored; nothing was stored, try again."
        )

    async def _replicated(self, conversation_id: str) -> None:
        """Wait until the replicas hold the turn, so a failover to one of them keeps it. A replica
        that does not answer in time does not fail the turn (the master has it): it is logged."""
        if not self.wait_replicas:
            return
        held = await self.redis.wait(self.wait_replicas, self.wait_ms)
        if held < self.wait_replicas:
            log.warning(
                "turn of %s reached %d of %d replicas in %d ms", conversation_id, held, self.wait_replicas, self.wait_ms
            )

    @staticmethod
    def _added(revision: Revision, answer: Message) -> list[str]:
        return [m.model_dump_json(exclude_none=True) for m in [*revision.fresh, answer]]

    def _overflow(self, items: list[str]) -> int:
        """How many of the oldest messages go, for the caps (the newest two always stay)."""
        drop = max(0, len(items) - self.max_messages)
        size = sum(len(item) for item in items[drop:])
        while size > self.max_bytes and drop < len(items) - 2:
            size -= len(items[drop])
            drop += 1
        return drop

    async def details(self, conversation_id: str) -> dict[str, Any]:
        """What is recorded about the conversation besides its messages: its title and last update,
        the client's `user`, and what the calling platform said of itself (`client`)."""
        try:
            raw = await self.redis.hgetall(KEY_PREFIX + conversation_id + META_SUFFIX)
        except REDIS_FAILURES as error:
            raise unavailable(error) from error
        found: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items() if k != b"owner"}
        if "client" in found:
            found["client"] = json.loads(found["client"])
        if "updated" in found:
            found["updated_at"] = int(found.pop("updated")) // 1000
        return found

    async def find_by_fingerprint(self, fingerprint: str) -> str | None:
        """The conversation whose history, as its client will send it next, has this fingerprint."""
        try:
            key = await self.redis.get(FINGERPRINT_PREFIX + fingerprint)
        except REDIS_FAILURES as error:
            raise unavailable(error) from error
        return key.decode().removeprefix(KEY_PREFIX) if key else None

    async def recent(self, owner: str = SHARED_OWNER, limit: int = 20, before: int | None = None) -> list[Listed]:
        """The owner's conversations, most recently updated first; `before` (ms) pages back. Entries
        whose conversation has expired are dropped from the index as they are met."""
        index = OWNER_INDEX.format(owner)
        try:
            newest = "+inf" if before is None else f"({before}"
            found = await self.redis.zrevrangebyscore(index, newest, "-inf", start=0, num=limit, withscores=True)
            async with self.redis.pipeline(transaction=False) as pipe:
                for member, _ in found:
                    pipe.hmget(KEY_PREFIX + member.decode() + META_SUFFIX, "title", "owner")
                    pipe.llen(KEY_PREFIX + member.decode())
                replies = await pipe.execute()
            listed, gone = [], []
            for (member, score), (title, stored_owner), length in zip(found, replies[::2], replies[1::2]):
                if not length or (stored_owner or b"").decode() != owner:
                    gone.append(member)
                    continue
                listed.append(Listed(member.decode(), (title or b"").decode(), int(score), length))
            if gone:
                await self.redis.zrem(index, *gone)
            return listed
        except REDIS_FAILURES as error:
            raise unavailable(error) from error

    async def delete(self, conversation_id: str, owner: str = SHARED_OWNER) -> bool:
        key = KEY_PREFIX + conversation_id
        try:
            _check_owner(await self.redis.hget(key + META_SUFFIX, "owner"), owner, conversation_id)
            await self.redis.zrem(OWNER_INDEX.format(owner), conversation_id)
            return bool(await self.redis.delete(key, key + META_SUFFIX))
        except REDIS_FAILURES as error:
            raise unavailable(error) from error

    async def close(self) -> None:
        await self.redis.aclose(close_connection_pool=True)


class StoreUnavailable(Exception):
    """Redis did not answer; the message says so to the client (the gateway renders it as a 503)."""


class NotOwned(Exception):
    """Another key owns this conversation: to this caller it does not exist (the gateway's 404)."""


def _check_owner(stored: bytes | None, owner: str, conversation_id: str) -> None:
    if stored is not None and stored.decode() != owner:
        raise NotOwned(conversation_id)


def unavailable(error: Exception) -> StoreUnavailable:
    return StoreUnavailable(
        f"The conversation store (Redis) is unavailable: {type(error).__name__}. Nothing was stored; "
        "try again when it is back."
    )


def _same(a: Message, b: Message) -> bool:
    return (
        a.role == b.role
        and a.content.strip() == b.content.strip()
        and a.tool_call_id == b.tool_call_id
        and [c.id for c in a.tool_calls or []] == [c.id for c in b.tool_calls or []]
    )


def reconcile(stored: list[Message], sent: list[Message]) -> Revision:
    """What the client's view of the history makes of the stored one.

    A client that resends the history (two messages or more, lining up with the stored window) is
    taken at its word: where it stops short, as a regenerate does, the last answer goes; where it
    differs, as an edit does, the tail from the edited message on is replaced. A resent history that
    lines up nowhere, because its very first message was edited, is taken at its word too: it carries
    an earlier answer, so it is the client's view of the whole conversation, and replaces it. A client
    that sends only the new message (or new messages with no answer among them) appends them.
    """
    if stored and len(sent) > 1:
        for start, message in enumerate(sent):
            if not _same(message, stored[0]):
                continue
            common = 0
            while common < len(stored) and start + common < len(sent) and _same(stored[common], sent[start + common]):
                common += 1
            return Revision(common, sent[start + common :])
    fresh = new_messages(stored, sent)
    if stored and len(fresh) == len(sent) > 1 and any(m.role == "assistant" for m in sent[:-1]):
        return Revision(0, sent)  # [u1', a1, u2]: the first message edited, so nothing lines up
    return Revision(len(stored), fresh)


def new_messages(stored: list[Message], sent: list[Message]) -> list[Message]:
    """The part of what the client sent that the store does not hold yet.

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


def title_of(messages: list[Message]) -> str:
    """A conversation's title: the start of its first question, on one line."""
    first = next((m.content for m in messages if m.role == "user"), "")
    line = " ".join(first.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def as_jsonable(messages: list[Message]) -> list[dict[str, Any]]:
    return [json.loads(m.model_dump_json(exclude_none=True)) for m in messages]
