"""The team's choices as the client receives them: checked, capped and shaped the OpenAI way.

Each choice has its own `Lane`: the cap on its answer (stop and max_tokens), and its log
probabilities. A function call or JSON is checked against what the client asked for, whole; prose
is cut by the cap as it goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestration.protocol import Choice
from servers.gateway import wire
from servers.gateway.answer_cap import AnswerCap
from servers.gateway.errors import StructuredOutputFailed


@dataclass
class Request:
    """What of the client's request shapes its choices."""

    chat: bool
    stop: list[str] | None
    max_tokens: int | None
    model: str
    wants_json: bool = False
    target_schema: dict[str, Any] | None = None
    function_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    forced_call: bool = False  # tool_choice required, or a named function
    legacy_functions: bool = False
    logprobs: bool = False
    top_logprobs: int = 0  # alternatives asked for each token (the LLM was asked for at least 1)


@dataclass
class Lane:
    """One choice on its way out."""

    index: int
    cap: AnswerCap
    logprobs: list[dict[str, Any]] = field(default_factory=list)

    def feed(self, delta: str, logprobs: list[dict[str, Any]] | None) -> tuple[str, list[dict[str, Any]]]:
        out = self.cap.feed(delta)
        kept = _within(logprobs or [], len(out)) if out != delta else list(logprobs or [])
        self.logprobs += kept
        return out, kept


class Lanes:
    def __init__(self, request: Request):
        self.request = request
        self.lanes: dict[int, Lane] = {}

    def __getitem__(self, index: int) -> Lane:
        if index not in self.lanes:
            self.lanes[index] = Lane(index, AnswerCap(self.request.stop, self.request.max_tokens, self.request.model))
        return self.lanes[index]

    def capped(self, choice: Choice | None = None) -> bool:
        """stop and max_tokens cut prose; JSON and function calls are whole or nothing."""
        return not self.request.wants_json and not (choice and choice.tool_calls)

    def check(self, choice: Choice) -> None:
        """The client never receives a call or JSON that does not match what it asked for."""
        request = self.request
        for call in choice.tool_calls:
            schema = request.function_schemas.get(call.name)
            problem = "it names no offered function" if schema is None else wire.json_problem(call.arguments, schema)
            if problem:
                raise StructuredOutputFailed(f"The team's call of '{call.name}' was invalid ({problem}).")
        if not choice.tool_calls and request.forced_call:
            raise StructuredOutputFailed("tool_choice asked for a function call, and the team gave none.")
        if not choice.tool_calls and request.wants_json:
            problem = wire.json_problem(choice.output, request.target_schema or {"type": "object"})
            if problem:
                raise StructuredOutputFailed(f"The team's reply did not match response_format ({problem}).")

    def settle(self, choice: Choice, streamed: bool) -> str:
        """Check the choice and apply its cap; the text still to send when it was streamed."""
        self.check(choice)
        if not self.capped(choice):
            return ""
        lane = self[choice.index]
        if streamed:
            tail = lane.cap.finish()
        else:
            tail = ""
            lane.cap.cut(choice.output)
            lane.logprobs = _within(choice.logprobs or [], len(lane.cap.text))
        choice.output = lane.cap.text
        choice.logprobs = lane.logprobs if self.request.logprobs else None
        if lane.cap.finish_reason:
            choice.finish_reason = lane.cap.finish_reason
        return tail

    # --- shapes ------------------------------------------------------------------------------
    def finish_reason(self, choice: Choice) -> str:
        if choice.tool_calls:
            return "function_call" if self.request.legacy_functions else "tool_calls"
        return choice.finish_reason

    def message(self, choice: Choice, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
        if choice.tool_calls and self.request.legacy_functions:
            call = choice.tool_calls[0]
            message["function_call"] = {"name": call.name, "arguments": call.arguments}
        elif choice.tool_calls:
            message["tool_calls"] = [wire.tool_call_block(call) for call in choice.tool_calls]
        return message

    def logprobs_block(self, items: list[dict[str, Any]] | None) -> dict[str, Any] | None:
        if not self.request.logprobs:
            return None
        items = items or []
        items = [
            {**item, "top_logprobs": (item.get("top_logprobs") or [])[: self.request.top_logprobs]} for item in items
        ]
        if self.request.chat:
            return {"content": [_entry(item) for item in items], "refusal": None}
        return wire.legacy_logprobs(items)


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's token entry from the LLM's (llama.cpp adds an id)."""
    return {
        "token": item.get("token", ""),
        "logprob": item.get("logprob", 0.0),
        "bytes": item.get("bytes"),
        "top_logprobs": [
            {"token": t.get("token", ""), "logprob": t.get("logprob", 0.0), "bytes": t.get("bytes")}
            for t in item.get("top_logprobs") or []
        ],
    }


def _within(items: list[dict[str, Any]], length: int) -> list[dict[str, Any]]:
    """The token entries whose text fits in the first `length` characters."""
    kept, used = [], 0
    for item in items:
        used += len(item.get("token", ""))
        if used > length:
            break
        kept.append(item)
    return kept
