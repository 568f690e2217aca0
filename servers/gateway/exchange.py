"""One request through the team: load history, run, relay, store the turn, answer."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse

from config import Settings
from orchestration.context import conversation_id_var, request_id_var
from orchestration.conversations import ConversationStore
from orchestration.protocol import AgentCallError, EventType, Message, TaskEvent, TaskRequest, TaskResult, TaskStream
from orchestration.tokens import count_message_tokens, count_tokens
from servers.gateway import wire
from servers.gateway.errors import APIError, ServiceUnavailable, StructuredOutputFailed
from servers.gateway.answer_cap import AnswerCap
from servers.gateway.turns import Turn, prepare_turn

log = logging.getLogger(__name__)


class Exchange:
    """One request through the team: load history, run, relay, store the turn, answer."""

    def __init__(self, request: Request, body: wire.SamplingFields, conversation_id: str, chat: bool):
        self.request = request
        self.app = request.app
        self.settings: Settings = request.app.state.settings
        self.body = body
        self.chat = chat
        self.conversation_id = conversation_id
        self.started = time.perf_counter()
        self.id = wire.completion_id("chatcmpl" if chat else "cmpl")
        self.created = wire.now()
        conversation_id_var.set(conversation_id)
        if body.user:
            log.info("end user %s", body.user)  # the client's `user`, in the request's log line
        stop = [body.stop] if isinstance(body.stop, str) else body.stop
        self.cap = AnswerCap(stop, self.max_tokens, body.model)

    @property
    def max_tokens(self) -> int | None:
        chosen = getattr(self.body, "max_completion_tokens", None)
        return chosen if chosen is not None else self.body.max_tokens

    async def respond(self, sent: list[Message]):
        url = self.app.state.models.url_for(self.body.model)
        store: ConversationStore = self.app.state.store
        stored = await store.load(self.conversation_id)
        # tokenizing the history (to trim it) and the prompt is CPU work: off the event loop
        turn = await asyncio.to_thread(prepare_turn, stored, sent, self.settings.max_context_tokens)
        task = TaskRequest(
            request_id=request_id_var.get(), conversation_id=self.conversation_id,
            instruction=turn.instruction, messages=turn.context,
            params=self.body.generation_params(self.max_tokens),
            deadline=time.time() + self.settings.task_deadline_seconds,
            **self._structure(),
        )
        self.prompt_tokens = await asyncio.to_thread(
            count_message_tokens, [(m.role, m.content) for m in sent], self.body.model)
        upstream = self.app.state.tasks.stream(url, task)
        direct = self.app.state.models.direct_agent(self.body.model)
        opening, planned = await self._until_planned(upstream, direct)  # fails before the response starts
        events = _replay(opening, upstream)
        if self.body.stream:
            headers = {"x-conversation-id": self.conversation_id, "cache-control": "no-cache",
                       "x-accel-buffering": "no"}
            if planned:  # a stream's headers go out before the work: they name the planned team
                headers["x-agents-used"] = ",".join(planned)
            return StreamingResponse(self._stream(events, turn), media_type="text/event-stream",
                                     headers=headers)
        result = await self._collect(events)
        self._check_structure(result)
        if self.capped(result):
            self._apply_cap(result, self.cap.cut(result.output))
        await self._store(turn, result)
        return self._response(result, await self._usage(result))

    def capped(self, result: TaskResult | None = None) -> bool:
        """stop and max_tokens cut prose; JSON and function calls are whole or nothing."""
        return not self.wants_json and not (result and result.tool_calls)

    def _apply_cap(self, result: TaskResult, text: str) -> None:
        result.output = text
        if self.cap.finish_reason:
            result.finish_reason = self.cap.finish_reason

    def _structure(self) -> dict:
        """The client's functions and output format, for the final voice."""
        body = self.body
        if not isinstance(body, wire.ChatCompletionRequest):
            return {}
        return {"tools": body.tool_dicts(), "tool_choice": body.tool_choice_value(),
                "parallel_tool_calls": body.parallel_tool_calls is not False,
                "response_format": body.response_format.as_dict() if body.response_format else None}

    @property
    def wants_json(self) -> bool:
        return isinstance(self.body, wire.ChatCompletionRequest) and bool(
            self.body.response_format and self.body.response_format.wants_json)

    def _check_structure(self, result: TaskResult) -> None:
        """The client never receives a call or JSON that does not match what it asked for."""
        body = self.body
        if not isinstance(body, wire.ChatCompletionRequest):
            return
        for call in result.tool_calls:
            schema = body.function_schema(call.name)
            problem = "it names no offered function" if schema is None else wire.json_problem(call.arguments, schema)
            if problem:
                raise StructuredOutputFailed(f"The team's call of '{call.name}' was invalid ({problem}).")
        choice = body.tool_choice_value()
        if not result.tool_calls and (choice == "required" or isinstance(choice, dict)):
            raise StructuredOutputFailed("tool_choice asked for a function call, and the team gave none.")
        if not result.tool_calls and self.wants_json:
            problem = wire.json_problem(result.output, body.response_format.target_schema)
            if problem:
                raise StructuredOutputFailed(f"The team's reply did not match response_format ({problem}).")

    async def _until_planned(
        self, events: AsyncIterator[TaskEvent], direct: str | None
    ) -> tuple[list[TaskEvent], list[str]]:
        """Read up to the supervisor's plan (a few ms in): the events so far, and the team it chose."""
        opening: list[TaskEvent] = []
        try:
            while True:
                event = await anext(events)
                opening.append(event)
                if direct:
                    return opening, [direct]
                if event.type is EventType.step_finished and event.data.name == "plan":
                    return opening, event.data.agents
                if event.type in (EventType.token, EventType.result, EventType.error):
                    return opening, []
        except (AgentCallError, StopAsyncIteration) as error:
            await events.aclose()
            raise ServiceUnavailable(f"The team is unavailable: {error}", code="team_unavailable") from error

    async def _collect(self, events: AsyncIterator[TaskEvent]) -> TaskResult:
        stream = TaskStream(events)
        try:
            return await stream.drain()
        except AgentCallError as error:
            raise ServiceUnavailable(f"The team failed: {error}", code="team_failed") from error
        finally:
            await stream.aclose()

    async def _store(self, turn: Turn, result: TaskResult) -> None:
        if self.chat:
            answer = Message(role="assistant", content=result.output, tool_calls=result.tool_calls or None)
            await self.app.state.store.append_turn(self.conversation_id, [*turn.to_store, answer],
                                                   user=self.body.user)

    def _text(self, output: str) -> str:
        if not self.chat and getattr(self.body, "echo", False):
            return self.body.prompt_text + output
        return output

    async def _usage(self, result: TaskResult) -> dict[str, int]:
        """What the client sent and received, counted with tiktoken (in a thread)."""
        completion = await asyncio.to_thread(count_tokens, result.output, self.body.model)
        return wire.usage_block(self.prompt_tokens, completion)

    def _response(self, result: TaskResult, usage: dict[str, int]) -> JSONResponse:
        seconds = time.perf_counter() - self.started
        text = self._text(result.output)
        metadata = wire.metadata_block(result, self.conversation_id, seconds)
        if self.chat:
            choice = {"index": 0, "message": self._message(result, text),
                      "logprobs": None, "finish_reason": self._finish_reason(result)}
        else:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": result.finish_reason}
        body = {
            "id": self.id, "object": "chat.completion" if self.chat else "text_completion",
            "created": self.created, "model": self.body.model,
            "choices": [choice], "usage": usage, "conversation_id": self.conversation_id,
            "metadata": metadata, "agent_trace": wire.agent_trace_block(result),
        }
        return JSONResponse(body, headers={"x-conversation-id": self.conversation_id,
                                           "x-agents-used": metadata["agents_used"]})

    def _message(self, result: TaskResult, text: str) -> dict:
        message: dict = {"role": "assistant", "content": text or None, "refusal": None}
        if result.tool_calls and self.legacy_functions:
            call = result.tool_calls[0]
            message["function_call"] = {"name": call.name, "arguments": call.arguments}
        elif result.tool_calls:
            message["tool_calls"] = [wire.tool_call_block(call) for call in result.tool_calls]
        return message

    @property
    def legacy_functions(self) -> bool:
        return isinstance(self.body, wire.ChatCompletionRequest) and self.body.legacy_functions

    def _finish_reason(self, result: TaskResult) -> str:
        if result.tool_calls:
            return "function_call" if self.legacy_functions else "tool_calls"
        return result.finish_reason

    # --- streaming --------------------------------------------------------------------------
    def _chunk(self, delta: dict | None, finish_reason: str | None = None, **extra) -> bytes:
        if self.chat:
            choice = {"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish_reason}
            kind = "chat.completion.chunk"
        else:
            choice = {"index": 0, "text": (delta or {}).get("content", ""), "logprobs": None,
                      "finish_reason": finish_reason}
            kind = "text_completion"
        chunk = {"id": self.id, "object": kind, "created": self.created, "model": self.body.model,
                 "choices": [choice], **extra}
        if self.include_usage and "usage" not in chunk:
            chunk["usage"] = None
        return sse(chunk)

    @property
    def include_usage(self) -> bool:
        return bool(self.body.stream_options and self.body.stream_options.include_usage)

    async def _stream(self, events: AsyncIterator[TaskEvent], turn: Turn):
        opening = {"role": "assistant", "content": ""} if self.chat else {"content": ""}
        yield self._chunk(opening, conversation_id=self.conversation_id,
                          metadata={"conversation_id": self.conversation_id})
        if not self.chat and getattr(self.body, "echo", False):
            yield self._chunk({"content": self.body.prompt_text})
        stream = TaskStream(events)
        try:
            async for event in stream:
                # JSON is checked whole before any of it goes out: a client never gets invalid JSON
                if event.type is EventType.token and event.data.delta and self.capped():
                    if text := self.cap.feed(event.data.delta):
                        yield self._chunk({"content": text})
            result = stream.result
            self._check_structure(result)
            if self.capped(result):
                if text := self.cap.finish():
                    yield self._chunk({"content": text})
                self._apply_cap(result, self.cap.text)
            if self.wants_json and not result.tool_calls:
                for piece in wire.pieces(result.output):
                    yield self._chunk({"content": piece})
            for delta in wire.tool_call_deltas(result.tool_calls, self.legacy_functions):
                yield self._chunk(delta)
            await self._store(turn, result)
        except (AgentCallError, APIError) as error:
            failure = error if isinstance(error, APIError) else ServiceUnavailable(
                f"The team failed mid-answer: {error}", code="team_failed")
            log.warning("stream failed: %s", failure.message)
            yield sse(failure.body())
            yield b"data: [DONE]\n\n"
            return
        finally:
            await stream.aclose()  # a client that hangs up stops the team's work too
        seconds = time.perf_counter() - self.started
        yield self._chunk(
            {}, self._finish_reason(result), conversation_id=self.conversation_id,
            metadata=wire.metadata_block(result, self.conversation_id, seconds),
            agent_trace=wire.agent_trace_block(result),
        )
        if self.include_usage:
            usage = await self._usage(result)
            chunk = {"id": self.id, "object": "chat.completion.chunk" if self.chat else "text_completion",
                     "created": self.created, "model": self.body.model,
                     "choices": [], "usage": usage}
            yield sse(chunk)
        yield b"data: [DONE]\n\n"


async def _replay(opening: list[TaskEvent], rest: AsyncIterator[TaskEvent]) -> AsyncIterator[TaskEvent]:
    """The events already read, then the rest; closing it closes the upstream call."""
    try:
        for event in opening:
            yield event
        async for event in rest:
            yield event
    finally:
        await rest.aclose()


def sse(payload: dict) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"
