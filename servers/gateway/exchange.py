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
from orchestration.protocol import (
    AgentCallError,
    Choice,
    EventType,
    Message,
    TaskEvent,
    TaskRequest,
    TaskResult,
    TaskStream,
)
from orchestration.tokens import count_message_tokens, count_tokens
from servers.gateway import choices, wire
from servers.gateway.choices import Lanes
from servers.gateway.errors import APIError, ServiceUnavailable
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
        self.lanes = Lanes(self._shaping())

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
        answers = result.all_choices()
        for answer in answers:
            self.lanes.settle(answer, streamed=False)
        await self._store(turn, answers[0])
        return self._response(result, answers, await self._usage(answers))

    def _shaping(self) -> choices.Request:
        body = self.body
        stop = [body.stop] if isinstance(body.stop, str) else body.stop
        shaping = choices.Request(chat=self.chat, stop=stop, max_tokens=self.max_tokens, model=body.model,
                                  logprobs=bool(body.logprobs))
        if isinstance(body, wire.ChatCompletionRequest):
            fmt = body.response_format
            choice = body.tool_choice_value()
            shaping.wants_json = bool(fmt and fmt.wants_json)
            shaping.target_schema = fmt.target_schema if fmt else None
            shaping.function_schemas = {t["function"]["name"]: t["function"].get("parameters") or {"type": "object"}
                                        for t in body.tool_dicts()}
            shaping.forced_call = choice == "required" or isinstance(choice, dict)
            shaping.legacy_functions = body.legacy_functions
        return shaping

    def _structure(self) -> dict:
        """The client's functions and output format, for the final voice."""
        body = self.body
        if not isinstance(body, wire.ChatCompletionRequest):
            return {}
        return {"tools": body.tool_dicts(), "tool_choice": body.tool_choice_value(),
                "parallel_tool_calls": body.parallel_tool_calls is not False,
                "response_format": body.response_format.as_dict() if body.response_format else None}

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

    async def _store(self, turn: Turn, first: Choice) -> None:
        """The first choice is the turn's answer (clients that ask for n show the first)."""
        if self.chat:
            answer = Message(role="assistant", content=first.output, tool_calls=first.tool_calls or None)
            await self.app.state.store.append_turn(self.conversation_id, [*turn.to_store, answer],
                                                   user=self.body.user)

    def _text(self, output: str) -> str:
        if not self.chat and getattr(self.body, "echo", False):
            return self.body.prompt_text + output
        return output

    async def _usage(self, answers: list[Choice]) -> dict[str, int]:
        """What the client sent and received, counted with tiktoken (in a thread)."""
        text = [a.output for a in answers] + [c.arguments for a in answers for c in a.tool_calls]
        completion = await asyncio.to_thread(lambda: sum(count_tokens(t, self.body.model) for t in text))
        return wire.usage_block(self.prompt_tokens, completion)

    def _response(self, result: TaskResult, answers: list[Choice], usage: dict[str, int]) -> JSONResponse:
        seconds = time.perf_counter() - self.started
        metadata = wire.metadata_block(result, self.conversation_id, seconds)
        shaped = []
        for answer in answers:
            text = self._text(answer.output)
            logprobs = self.lanes.logprobs_block(answer.logprobs)
            reason = self.lanes.finish_reason(answer)
            shaped.append({"index": answer.index, "message": self.lanes.message(answer, text), "logprobs": logprobs,
                           "finish_reason": reason} if self.chat else
                          {"index": answer.index, "text": text, "logprobs": logprobs, "finish_reason": reason})
        body = {
            "id": self.id, "object": "chat.completion" if self.chat else "text_completion",
            "created": self.created, "model": self.body.model,
            "choices": shaped, "usage": usage, "conversation_id": self.conversation_id,
            "metadata": metadata, "agent_trace": wire.agent_trace_block(result),
        }
        return JSONResponse(body, headers={"x-conversation-id": self.conversation_id,
                                           "x-agents-used": metadata["agents_used"]})

    # --- streaming --------------------------------------------------------------------------
    def _chunk(self, delta: dict | None, finish_reason: str | None = None, index: int = 0,
               logprobs: dict | None = None, **extra) -> bytes:
        if self.chat:
            choice = {"index": index, "delta": delta or {}, "logprobs": logprobs, "finish_reason": finish_reason}
            kind = "chat.completion.chunk"
        else:
            choice = {"index": index, "text": (delta or {}).get("content", ""), "logprobs": logprobs,
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
        lanes = self.lanes
        try:
            async for event in stream:
                # JSON is checked whole before any of it goes out: a client never gets invalid JSON
                if event.type is EventType.token and event.data.delta and lanes.capped():
                    data = event.data
                    text, logprobs = lanes[data.index].feed(data.delta, data.logprobs)
                    if text:
                        yield self._chunk({"content": text}, index=data.index,
                                          logprobs=lanes.logprobs_block(logprobs))
            result = stream.result
            answers = result.all_choices()
            for answer in answers:
                if tail := lanes.settle(answer, streamed=True):
                    yield self._chunk({"content": tail}, index=answer.index)
                if lanes.request.wants_json and not answer.tool_calls:
                    for piece in wire.pieces(answer.output):
                        yield self._chunk({"content": piece}, index=answer.index)
                for delta in wire.tool_call_deltas(answer.tool_calls, lanes.request.legacy_functions):
                    yield self._chunk(delta, index=answer.index)
            await self._store(turn, answers[0])
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
        for answer in answers[:-1]:
            yield self._chunk({}, lanes.finish_reason(answer), index=answer.index)
        yield self._chunk(
            {}, lanes.finish_reason(answers[-1]), index=answers[-1].index, conversation_id=self.conversation_id,
            metadata=wire.metadata_block(result, self.conversation_id, seconds),
            agent_trace=wire.agent_trace_block(result),
        )
        if self.include_usage:
            usage = await self._usage(answers)
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
