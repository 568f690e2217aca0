"""Stored responses of the Responses API, in the conversations' Redis and with their lifetime.

A response is kept whole (for `GET /v1/responses/{id}`) with the conversation it belongs to (for
`previous_response_id`); each output item is kept by its id, because clients send earlier output
back as `item_reference`s.
"""

from __future__ import annotations

import json
from typing import Any

from servers.gateway.conversations import REDIS_FAILURES, ConversationStore, unavailable
from servers.gateway.errors import BadRequest
from servers.gateway.responses_wire import FunctionCallItem, InputItem, ItemReference, MessageItem, ResolvedItem

RESPONSE_PREFIX = "chorus:response:"
ITEM_PREFIX = "chorus:response-item:"


class ResponseStore:
    def __init__(self, conversations: ConversationStore):
        self.redis = conversations.redis
        self.ttl = conversations.ttl

    async def save(self, response: dict[str, Any], conversation_id: str, owner: str) -> None:
        record = json.dumps({"conversation_id": conversation_id, "owner": owner, "response": response})
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(RESPONSE_PREFIX + response["id"], record, ex=self.ttl)
                for item in response["output"]:
                    pipe.set(ITEM_PREFIX + item["id"], json.dumps({"owner": owner, "item": item}), ex=self.ttl)
                await pipe.execute()
        except REDIS_FAILURES as error:
            raise unavailable(error) from error

    async def load(self, response_id: str, owner: str) -> tuple[dict[str, Any], str] | None:
        """The response and its conversation id, or None (also when another key owns it)."""
        try:
            raw = await self.redis.get(RESPONSE_PREFIX + response_id)
        except REDIS_FAILURES as error:
            raise unavailable(error) from error
        if raw is None:
            return None
        record = json.loads(raw)
        if record["owner"] != owner:
            return None
        return record["response"], record["conversation_id"]

    async def items(self, item_ids: list[str], owner: str) -> dict[str, dict[str, Any]]:
        """The stored output items among these ids that this owner may see."""
        if not item_ids:
            return {}
        try:
            raw = await self.redis.mget([ITEM_PREFIX + i for i in item_ids])
        except REDIS_FAILURES as error:
            raise unavailable(error) from error
        records = {i: json.loads(r) for i, r in zip(item_ids, raw) if r is not None}
        return {i: record["item"] for i, record in records.items() if record["owner"] == owner}

    async def delete(self, response_id: str, owner: str) -> bool:
        found = await self.load(response_id, owner)
        if found is None:
            return False
        response, _ = found
        try:
            await self.redis.delete(
                RESPONSE_PREFIX + response_id, *(ITEM_PREFIX + item["id"] for item in response["output"])
            )
        except REDIS_FAILURES as error:
            raise unavailable(error) from error
        return True

    async def resolve(self, items: list[InputItem], owner: str) -> list[ResolvedItem]:
        """The input with each item_reference replaced by the stored output item it names."""
        wanted = [item.id for item in items if isinstance(item, ItemReference)]
        stored = await self.items(wanted, owner)
        resolved: list[ResolvedItem] = []
        for index, item in enumerate(items):
            if not isinstance(item, ItemReference):
                resolved.append(item)
            elif item.id not in stored:
                raise BadRequest(
                    f"Item with id '{item.id}' not found.", param=f"input.{index}.id", code="item_not_found"
                )
            elif stored[item.id]["type"] == "function_call":
                resolved.append(FunctionCallItem.model_validate(stored[item.id]))
            else:
                resolved.append(MessageItem.model_validate(stored[item.id]))
        return resolved
