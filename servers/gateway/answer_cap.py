"""The client's caps on the whole answer: `stop` sequences and `max_tokens`, computed figures included.

The writer's LLM gets both caps too, but the answer also holds text no model generated (the
computed figures, the sources), so the gateway cuts the answer itself, as it streams out. A stop
sequence split across two chunks is held back until it is known not to be one; tokens are counted
with tiktoken, as `usage` counts them, and the cut sets finish_reason to "length".
"""

from __future__ import annotations

from typing import Literal

from orchestration.tokens import encoding_for

EXACT_WITHIN = 16  # per-piece counts can only overestimate merges; count exactly near the cap


class AnswerCap:
    def __init__(self, stop: list[str] | None, max_tokens: int | None, model: str):
        self.stop = [s for s in stop or [] if s]
        self.max_tokens = max_tokens
        self.encoding = encoding_for(model)
        self.text = ""  # what has gone out
        self.held = ""  # may be the start of a stop sequence
        self.estimate = 0
        self.finish_reason: Literal["stop", "length"] | None = None  # once the answer is cut

    def feed(self, delta: str) -> str:
        if self.finish_reason:
            return ""
        buffer = self.held + delta
        found = [buffer.find(s) for s in self.stop if s in buffer]
        if found:
            self.held = ""
            out = self._within_tokens(buffer[: min(found)])
            self.finish_reason = self.finish_reason or "stop"
            return out
        keep = self._partial_stop(buffer)
        out, self.held = buffer[: len(buffer) - keep], buffer[len(buffer) - keep :]
        return self._within_tokens(out)

    def finish(self) -> str:
        out, self.held = self.held, ""
        return self._within_tokens(out) if not self.finish_reason else ""

    def cut(self, text: str) -> str:
        """The whole answer at once (a non-streamed reply)."""
        return self.feed(text) + self.finish()

    def _partial_stop(self, buffer: str) -> int:
        """How many trailing characters could begin a stop sequence."""
        longest = 0
        for stop in self.stop:
            for size in range(min(len(stop) - 1, len(buffer)), longest, -1):
                if buffer.endswith(stop[:size]):
                    longest = size
                    break
        return longest

    def _within_tokens(self, out: str) -> str:
        if self.max_tokens is None or not out:
            self.text += out
            return out
        self.estimate += len(self.encoding.encode(out, disallowed_special=()))
        if self.estimate < self.max_tokens - EXACT_WITHIN:
            self.text += out
            return out
        tokens = self.encoding.encode(self.text + out, disallowed_special=())
        if len(tokens) <= self.max_tokens:
            self.text += out
            self.estimate = len(tokens)
            return out
        allowed = self.encoding.decode(tokens[: self.max_tokens])
        piece = allowed[len(self.text) :] if allowed.startswith(self.text) else ""
        self.text += piece
        self.finish_reason = "length"
        return piece
