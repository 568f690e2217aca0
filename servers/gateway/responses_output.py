"""The team's answer as a Responses API object, or as its typed stream of events.

One output message (the answer) or one function_call item per call; a cut by max_output_tokens makes
the response `incomplete`. The response is stored (unless `store: false`) when it is complete.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

from orchestration.protocol import Choice, TaskResult, ToolCall, pieces
from servers.gateway import wire
from servers.gateway.errors import APIError
from servers.gateway.response_store import ResponseStore
from servers.gateway.responses_wire import ResponsesRequest

if TYPE_CHECKING:
    from servers.gateway.exchange import Exchange


def response_id() -> str:
    return f"resp_{uuid.uuid4().hex}"


def usage_block(usage: dict[str, int]) -> dict[str, Any]:
    return {
        "input_tokens": usage["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": usage["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage["total_tokens"],
    }


def function_call_item(call: ToolCall, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{call.id}",
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "status": status,
    }


def citations(text: str, result: TaskResult) -> list[dict[str, Any]]:
    """Each cited source's URL where the answer names it, as OpenAI's url_citation."""
    found = []
    for source in result.sources:
        url = source.location if source.location.startswith(("http://", "https://")) else ""
        start = text.find(url) if url else -1
        if start >= 0:
            found.append(
                {
                    "type": "url_citation",
                    "start_index": start,
                    "end_index": start + len(url),
                    "url": url,
                    "title": source.title or url,
                }
            )
    return found


class ResponsesOutput:
    def __init__(
        self, exchange: Exchange, request: ResponsesRequest, store: ResponseStore, previous_response_id: str | None
    ):
        self.exchange = exchange
        self.request = request
        self.store = store
        self.previous_response_id = previous_response_id
        self.id = response_id()
        self.message_id = f"msg_{uuid.uuid4().hex}"
        self.keeps_turn = request.store is not False
        self.reads_history = True
        self.wants_usage = True
        self.sequence = 0
        self.opened = False  # the message item has been announced
        self.closed = False
        self.next_index = 0

    # --- the response object -------------------------------------------------------------------
    def snapshot(
        self,
        status: str,
        output: list[dict[str, Any]],
        usage: dict[str, int] | None = None,
        result: TaskResult | None = None,
        error: APIError | None = None,
    ) -> dict[str, Any]:
        request, exchange = self.request, self.exchange
        metadata = dict(request.metadata or {})
        if result is not None:
            metadata |= wire.metadata_block(result, exchange.conversation_id, exchange.seconds)
        fmt = (
            request.text.format.model_dump(by_alias=True, exclude_none=True)
            if request.text and request.text.format
            else {"type": "text"}
        )
        body: dict[str, Any] = {
            "id": self.id,
            "object": "response",
            "created_at": exchange.created,
            "status": status,
            "background": False,
            "error": {"code": error.code or error.type, "message": error.message} if error else None,
            "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
            "instructions": request.instructions,
            "max_output_tokens": request.max_output_tokens,
            "model": request.model,
            "output": output,
            "parallel_tool_calls": request.parallel_tool_calls is not False,
            "previous_response_id": self.previous_response_id,
            "reasoning": {"effort": None, "summary": None},
            "store": self.keeps_turn,
            "temperature": request.temperature,
            "text": {"format": fmt},
            "tool_choice": request.tool_choice_value(),
            "tools": [t.model_dump(exclude_none=True) for t in request.tools or []],
            "top_logprobs": request.top_logprobs,
            "top_p": request.top_p,
            "truncation": "disabled",
            "usage": usage_block(usage) if usage else None,
            "user": request.user,
            "metadata": metadata,
        }
        if self.keeps_turn:
            body["conversation"] = {"id": exchange.conversation_id}
        if result is not None:
            body["completed_at"] = wire.now()
            body["agent_trace"] = wire.agent_trace_block(result)
        return body

    def _message(self, answer: Choice, result: TaskResult) -> dict[str, Any]:
        part = {
            "type": "output_text",
            "text": answer.output,
            "annotations": citations(answer.output, result),
            "logprobs": self._logprobs(answer.logprobs),
        }
        return {
            "type": "message",
            "id": self.message_id,
            "role": "assistant",
            "status": self._status(answer),
            "content": [part],
        }

    def _output(self, answer: Choice, result: TaskResult) -> list[dict[str, Any]]:
        items = [self._message(answer, result)] if answer.output or not answer.tool_calls else []
        return items + [function_call_item(call) for call in answer.tool_calls]

    def _status(self, answer: Choice) -> str:
        return "incomplete" if answer.finish_reason == "length" else "completed"

    def _logprobs(self, items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        block = self.exchange.lanes.logprobs_block(items)
        return block["content"] if block else []

    async def _finish(self, result: TaskResult, answers: list[Choice], usage: dict[str, int] | None) -> dict[str, Any]:
        answer = answers[0]  # the Responses API has one answer
        response = self.snapshot(self._status(answer), self._output(answer, result), usage, result)
        if self.keeps_turn:
            await self.store.save(response, self.exchange.conversation_id, self.exchange.request.state.owner)
        return response

    async def whole(self, result: TaskResult, answers: list[Choice], usage: dict[str, int]) -> JSONResponse:
        response = await self._finish(result, answers, usage)
        return JSONResponse(
            response,
            headers={
                "x-conversation-id": self.exchange.conversation_id,
                "x-agents-used": response["metadata"]["agents_used"],
            },
        )

    # --- the stream ----------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        return {"x-response-id": self.id}

    def _event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return wire.sse(payload, event=kind)

    def opening(self) -> list[bytes]:
        started = self.snapshot("in_progress", [])
        return [
            self._event("response.created", response=started),
            self._event("response.in_progress", response=started),
        ]

    def _open_message(self) -> list[bytes]:
        if self.opened:
            return []
        self.opened, self.message_index = True, self.next_index
        self.next_index += 1
        item = {"type": "message", "id": self.message_id, "role": "assistant", "status": "in_progress", "content": []}
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        return [
            self._event("response.output_item.added", output_index=self.message_index, item=item),
            self._event(
                "response.content_part.added",
                item_id=self.message_id,
                output_index=self.message_index,
                content_index=0,
                part=part,
            ),
        ]

    def _delta(self, text: str, logprobs: list[dict[str, Any]] | None = None) -> list[bytes]:
        return self._open_message() + [
            self._event(
                "response.output_text.delta",
                item_id=self.message_id,
                output_index=self.message_index,
                content_index=0,
                delta=text,
                logprobs=self._logprobs(logprobs),
            )
        ]

    def _close_message(self, answer: Choice, result: TaskResult) -> list[bytes]:
        if not self.opened or self.closed:
            return []
        self.closed = True
        item = self._message(answer, result)
        at = {"item_id": self.message_id, "output_index": self.message_index, "content_index": 0}
        return [
            self._event("response.output_text.done", **at, text=answer.output, logprobs=item["content"][0]["logprobs"]),
            self._event("response.content_part.done", **at, part=item["content"][0]),
            self._event("response.output_item.done", output_index=self.message_index, item=item),
        ]

    def text(self, index: int, text: str, logprobs: list[dict[str, Any]]) -> list[bytes]:
        return self._delta(text, logprobs)

    def progress(self, line: str) -> list[bytes]:
        return []  # the Responses API's reasoning items are a model's own; the team's progress is not sent here

    def settled(self, answer: Choice, tail: str) -> list[bytes]:
        if answer.index != 0:
            return []
        events = self._delta(tail) if tail else []
        if self.exchange.lanes.request.wants_json and not answer.tool_calls:  # JSON goes out once checked whole
            for piece in pieces(answer.output):
                events += self._delta(piece)
        return events

    def _calls(self, calls: list[ToolCall]) -> list[bytes]:
        events = []
        for call in calls:
            index = self.next_index
            self.next_index += 1
            item = function_call_item(call)
            events.append(
                self._event(
                    "response.output_item.added",
                    output_index=index,
                    item=function_call_item(call, "in_progress") | {"arguments": ""},
                )
            )
            events += [
                self._event(
                    "response.function_call_arguments.delta", item_id=item["id"], output_index=index, delta=piece
                )
                for piece in pieces(call.arguments)
            ]
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    name=call.name,
                    arguments=call.arguments,
                )
            )
            events.append(self._event("response.output_item.done", output_index=index, item=item))
        return events

    async def closing(self, result: TaskResult, answers: list[Choice], usage: dict[str, int] | None) -> list[bytes]:
        answer = answers[0]
        events = []
        if not answer.tool_calls and not self.opened:
            events += self._open_message()  # an empty answer is still a message
        events += self._close_message(answer, result) + self._calls(answer.tool_calls)
        response = await self._finish(result, answers, usage)
        kind = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
        return events + [self._event(kind, response=response)]

    def failure(self, error: APIError) -> list[bytes]:
        return [
            self._event("error", code=error.code or error.type, message=error.message, param=error.param),
            self._event("response.failed", response=self.snapshot("failed", [], error=error)),
        ]
