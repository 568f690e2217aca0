"""One chat turn: from what the client sent and what is stored, the task for the team."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orchestration.protocol import Message
from orchestration.tokens import count_tokens
from servers.gateway.conversations import Revision, reconcile

SYSTEM_ROLES = ("system", "developer")


@dataclass
class Turn:
    instruction: str
    context: list[Message]  # system messages, then the (trimmed) earlier turns, then this turn's calls
    revise: Callable[[list[Message]], Revision]  # what the stored history becomes, as it is when stored


def dialogue_of(messages: list[Message]) -> list[Message]:
    """The messages a conversation stores: all but the system (and developer) ones."""
    return [m for m in messages if m.role not in SYSTEM_ROLES]


def prepare_turn(stored: list[Message], sent: list[Message], max_context_tokens: int) -> Turn:
    system = [m for m in sent if m.role in SYSTEM_ROLES]  # applies to this turn, never stored
    dialogue = dialogue_of(sent)
    revision = reconcile(stored, dialogue)
    history = stored[: revision.keep] + revision.fresh
    asked = next((i for i in range(len(history) - 1, -1, -1) if history[i].role == "user"), None)
    if asked is None:  # e.g. only a developer message
        instruction, earlier, exchange = (sent[-1].content if sent else ""), history, []
    else:  # what follows the question (function calls and their results) is this turn's, kept whole
        instruction, earlier, exchange = history[asked].content, history[:asked], history[asked + 1 :]
    kept = trim_history(earlier, max_context_tokens, system, instruction)
    return Turn(instruction, system + kept + exchange, lambda current: reconcile(current, dialogue))


def trim_history(history: list[Message], budget: int, system: list[Message], instruction: str) -> list[Message]:
    """Drop the oldest messages until the prompt fits the budget; system messages always stay."""
    used = count_tokens(instruction) + sum(count_tokens(m.content) + 3 for m in system)
    kept: list[Message] = []
    for message in reversed(history):
        cost = count_tokens(message.content) + 3
        if used + cost > budget:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    while kept and kept[0].role != "user":  # start at a user turn, not mid-turn
        kept.pop(0)
    return kept
