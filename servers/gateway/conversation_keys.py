"""Which conversation a request belongs to. The first of these that the request holds decides:

1. the body's `conversation_id`;
2. `metadata.conversation_id` (a string);
3. the `X-Conversation-Id` header;
4. Vapi's `call.id`, verbatim;
5. Open WebUI's `X-OpenWebUI-Chat-Id` header;
6. the history's fingerprint: a request that resends a stored conversation's history, with one
   new question after it, continues that conversation (clients such as `llm -c` send no id);
7. else a new id.

A turn stored under an id the client did not name (6 and 7) leaves the fingerprint of the history
the client will send next: everything it sent, then the answer.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from orchestration.protocol import Message
from servers.gateway.conversations import ConversationStore
from servers.gateway.turns import dialogue_of

OPEN_WEBUI_CHAT = "x-openwebui-chat-id"


@dataclass
class ConversationKey:
    id: str
    named: bool  # by the client (1 to 5); else found by fingerprint, or new


def named_conversation(body: Any, headers: Any) -> str | None:
    """The id the client named (1 to 5), if any."""
    metadata = getattr(body, "metadata", None) or {}
    call = getattr(body, "call", None) or {}
    for candidate in (
        getattr(body, "conversation_id", None),
        metadata.get("conversation_id"),
        headers.get("x-conversation-id"),
        call.get("id"),
        headers.get(OPEN_WEBUI_CHAT),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return None


async def conversation_key(
    store: ConversationStore, owner: str, body: Any, headers: Any, sent: list[Message]
) -> ConversationKey:
    named = named_conversation(body, headers)
    if named:
        return ConversationKey(named, named=True)
    dialogue = dialogue_of(sent)
    asked = max((i for i, m in enumerate(dialogue) if m.role == "user"), default=0)
    if asked:  # history came before the question: is it a stored conversation's?
        found = await store.find_by_fingerprint(fingerprint(owner, dialogue[:asked]))
        if found:
            return ConversationKey(found, named=False)
    return ConversationKey(new_conversation_id(), named=False)


def new_conversation_id() -> str:
    return f"conv-{uuid.uuid4().hex[:20]}"


def fingerprint(owner: str, messages: list[Message]) -> str:
    """Of a history as a client sends it: roles and text, whitespace at the ends aside."""
    digest = hashlib.sha256(owner.encode())
    for message in messages:
        digest.update(b"\x00" + message.role.encode() + b"\x01" + message.content.strip().encode())
    return digest.hexdigest()


def next_fingerprint(owner: str, sent: list[Message], answer: Message) -> str:
    """The fingerprint of the history the client will send with its next question."""
    return fingerprint(owner, dialogue_of(sent) + [answer])
