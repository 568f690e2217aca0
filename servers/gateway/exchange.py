"""One request through the team: load history, run, relay, store the turn, answer."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Callable
from functools import partial
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from config import Settings
from orchestration.metrics import TOKENS
from orchestration.protocol import (
    AgentCallError,
    Choice,
    EventType,
    Message,
    Step,
    TaskClient,
    TaskEvent,
    TaskRequest,
    TaskResult,
    TaskStream,
    Token,
    within,
)
from orchestration.sse import kept_alive
from orchestration.tokens import count_message_tokens, count_tokens, counting
from servers.context import conversation_id_var, request_id_var
from servers.gateway import choices, progress, wire
from servers.gateway.choices import Lanes
from servers.gateway.conversation_keys import ConversationKey, next_fingerprint
from servers.gateway.errors import APIError, team_failure
from servers.gateway.fan_out import fan_out
from servers.gateway.limits import check_sizes
from servers.gateway.turns import Turn, prepare_turn

log = logging.getLogger(__name__)


class Output(Protocol):
    """How one API shapes the team's answer: a whole response, or the events of a stream."""

    reads_history: bool  # whether the conversation's history is the context
    keeps_turn: bool  # whether the turn is stored in the conversation
    wants_usage: bool  # whether a stream's end carries usage

    def headers(self) -> dict[str, str]: ...
    def opening(self) -> list[bytes]: ...
    def text(self, index: int, text: str, logprobs: list[dict[str, Any]]) -> list[bytes]: ...
    def progress(self, line: str) -> list[bytes]: ...
    def settled(self, answer: Choice, tail: str) -> list[bytes]: ...
    async def closing(self, result: TaskResult, answers: list[Choice], usage: dict[str, int] | None) -> list[bytes]: ...
    def failure(self, error: APIError) -> list[bytes]: ...
    async def whole(self, result: TaskResult, answers: list[Choice], usage: dict[str, int]) -> JSONResponse: ...


class Exchange:
    """One request through the team: load history, run, relay, store the turn, answer.

    `output` builds the API's shapes (chat completions, legacy completions, or responses) from
    this exchange; the work is the same for all of them.
    """

    def __init__(
        self,
        request: Request,
        body: wire.ChatCompletionRequest | wire.CompletionRequest,
        key: ConversationKey,
        output: Callable[[Exchange], Output],
    ):
        self.request = request
        self.app = request.app
        self.settings: Settings = request.app.state.settings
        self.body = body
        self.key = key
        self.conversation_id = conversation_id = key.id
        # the team's progress as reasoning_content: chat only (the other APIs have no such field)
        self.progress = (
            isinstance(body, wire.ChatCompletionRequest)
            and (body.chorus_progress or self.settings.chorus_progress) == "reasoning"
        )
        self.open_webui = any(name.startswith("x-openwebui-") for name in request.headers)
        self.user = body.user or request.headers.get("x-openwebui-user-id")
        self.started = time.perf_counter()
        self.created = wire.now()
        self.deadline = time.time() + self._seconds_allowed()
        conversation_id_var.set(conversation_id)
        if self.user:
            log.info("end user %s", self.user)  # the client's `user`, in the request's log line
        self.lanes = Lanes(self._shaping())
        self.output = output(self)

    @property
    def max_tokens(self) -> int | None:
        chosen = getattr(self.body, "max_completion_tokens", None)
        return chosen if chosen is not None else self.body.max_tokens

    def _seconds_allowed(self) -> float:
        """The request's deadline: TASK_DEADLINE_SECONDS, or sooner when the client will give up
        sooner. The openai SDKs send their timeout; without streaming it bounds the whole answer."""
        allowed = self.settings.task_deadline_seconds
        client = self.request.headers.get("x-stainless-read-timeout", "")
        if not self.body.stream:
            try:
                allowed = min(allowed, max(float(client), 1.0))
            except ValueError:
                pass
        return allowed

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    async def respond(self, prompts: list[list[Message]]) -> Response:
        """Answer the request; each prompt is a run of the team (chat sends one)."""
        check_sizes(self.settings, prompts, self.max_tokens, self.body.n)
        url = self.app.state.models.url_for(self.body.model)
        if self.body.logprobs is not None and self.body.logprobs is not False:
            self.app.state.models.refuse_unavailable_logprobs(self.body.model)
        store, owner = self.app.state.store, self.request.state.owner
        self.history = await store.read(self.conversation_id, owner) if self.output.reads_history else None
        stored = self.history.messages if self.history else []
        # tokenizing the history (to trim it) and the prompt is CPU work: off the event loop when large
        self.sent = prompts[0]
        turns, self.prompt_tokens = await counting(
            lambda: (
                [prepare_turn(stored, sent, self.settings.max_context_tokens) for sent in prompts],
                sum(count_message_tokens([(m.role, m.content) for m in sent], self.body.model) for sent in prompts),
            ),
            sum(len(m.content) for m in stored) + sum(len(m.content) for sent in prompts for m in sent),
        )
        per_prompt = self.body.n or 1
        # A stream relays the team's events as they come; an answer nobody reads as it is written is
        # asked for whole, so no hop below frames, parses and relays it event by event.
        call = self.app.state.tasks.stream if self.body.stream else partial(_whole, self.app.state.tasks)
        upstream = within(fan_out([call(url, self._task(turn)) for turn in turns], per_prompt), self.deadline)
        direct = self.app.state.models.direct_agent(self.body.model)
        opening, planned = await self._until_planned(upstream, direct)  # fails before the response starts
        events = _replay(opening, upstream)
        turn = turns[0]
        if self.body.stream:
            headers = {
                "x-conversation-id": self.conversation_id,
                "cache-control": "no-cache",
                "x-accel-buffering": "no",
                **self.output.headers(),
            }
            if planned:  # a stream's headers go out before the work: they name the planned team
                headers["x-agents-used"] = ",".join(planned)
            return StreamingResponse(
                kept_alive(self._stream(events, turn), self.settings.stream_keepalive_seconds),
                media_type="text/event-stream",
                headers=headers,
            )
        result = await self._collect(events)
        self.request.state.llm_ms = result.llm_ms  # the x-chorus-overhead-ms header leaves it out
        answers = result.all_choices()
        for answer in answers:
            self.lanes.settle(answer, streamed=False)
        await self._store(turn, answers[0])
        return await self.output.whole(result, answers, await self._account(answers))

    def _task(self, turn: Turn) -> TaskRequest:
        return TaskRequest(
            request_id=request_id_var.get(),
            conversation_id=self.conversation_id,
            instruction=turn.instruction,
            messages=turn.context,
            params=self.body.generation_params(self.max_tokens),
            deadline=self.deadline,
            **self._structure(),
        )

    def _shaping(self) -> choices.Request:
        body = self.body
        stop = [body.stop] if isinstance(body.stop, str) else body.stop
        chat = isinstance(body, wire.ChatCompletionRequest)
        shaping = choices.Request(
            chat=chat,
            stop=stop,
            max_tokens=self.max_tokens,
            model=body.model,
            logprobs=body.logprobs is not None and body.logprobs is not False,
            top_logprobs=body.top_logprob_count or 0,
        )
        if isinstance(body, wire.ChatCompletionRequest):
            fmt = body.response_format
            choice = body.tool_choice_value()
            shaping.wants_json = bool(fmt and fmt.wants_json)
            shaping.target_schema = fmt.target_schema if fmt else None
            shaping.function_schemas = {
                t["function"]["name"]: t["function"].get("parameters") or {"type": "object"} for t in body.tool_dicts()
            }
            shaping.forced_call = choice == "required" or isinstance(choice, dict)
            shaping.legacy_functions = body.legacy_functions
        return shaping

    def _structure(self) -> dict[str, Any]:
        """The client's functions and output format, for the final voice."""
        body = self.body
        if not isinstance(body, wire.ChatCompletionRequest):
            return {}
        return {
            "tools": body.tool_dicts(),
            "tool_choice": body.tool_choice_value(),
            "parallel_tool_calls": body.parallel_tool_calls is not False,
            "response_format": body.response_format.as_dict() if body.response_format else None,
        }

    async def _until_planned(
        self, events: AsyncGenerator[TaskEvent, None], direct: str | None
    ) -> tuple[list[TaskEvent], list[str]]:
        """Read up to the supervisor's plan (a few ms in): the events so far, and the team it chose."""
        opening: list[TaskEvent] = []
        try:
            while True:
                event = await anext(events)
                opening.append(event)
                if direct:
                    return opening, [direct]
                if isinstance(event.data, Step) and event.data.name == "plan":
                    return opening, event.data.agents
                if event.type in (EventType.token, EventType.result, EventType.error):
                    return opening, []
        except (AgentCallError, StopAsyncIteration) as error:
            await events.aclose()
            failure = error if isinstance(error, AgentCallError) else AgentCallError("the team's events ended")
            raise team_failure(failure) from error

    async def _collect(self, events: AsyncGenerator[TaskEvent, None]) -> TaskResult:
        stream = TaskStream(events)
        try:
            return await stream.drain()
        except AgentCallError as error:
            raise team_failure(error) from error
        finally:
            await stream.aclose()

    async def _store(self, turn: Turn, first: Choice) -> None:
        """The first choice is the turn's answer (clients that ask for n show the first)."""
        if self.output.keeps_turn:
            owner = self.request.state.owner
            answer = Message(role="assistant", content=first.output, tool_calls=first.tool_calls or None)
            # a conversation the client did not name is found again by the history it will send next
            fingerprint = None if self.key.named else next_fingerprint(owner, self.sent, answer)
            await self.app.state.store.store_turn(
                self.conversation_id,
                turn.revise,
                answer,
                owner=owner,
                user=self.user,
                read=self.history,
                client=self._client(),
                fingerprint=fingerprint,
            )

    def _client(self) -> dict[str, Any] | None:
        """What the calling platform said of itself (Vapi's call, number and customer; metadata)."""
        body = self.body
        found = {name: getattr(body, name, None) for name in ("call", "phoneNumber", "customer", "metadata")}
        return {name: value for name, value in found.items() if value} or None

    async def _account(self, answers: list[Choice]) -> dict[str, int]:
        """What the client sent and received, counted with tiktoken: the usage block,
        the token metrics, and the key's token rate."""
        text = [a.output for a in answers] + [c.arguments for a in answers for c in a.tool_calls]
        completion = await counting(lambda: sum(count_tokens(t, self.body.model) for t in text), sum(map(len, text)))
        TOKENS.labels("prompt").inc(self.prompt_tokens)
        TOKENS.labels("completion").inc(completion)
        await self.app.state.rate_limits.charge(self.request.state.owner, self.prompt_tokens + completion)
        return wire.usage_block(self.prompt_tokens, completion)

    async def _stream(self, events: AsyncGenerator[TaskEvent, None], turn: Turn) -> AsyncGenerator[bytes, None]:
        output, lanes = self.output, self.lanes
        for chunk in output.opening():
            yield chunk
        stream = TaskStream(events)
        try:
            async for event in stream:
                if self.progress and (line := progress.line_of(event)):
                    for chunk in output.progress(line):
                        yield chunk
                # JSON is checked whole before any of it goes out: a client never gets invalid JSON
                if isinstance(event.data, Token) and event.data.delta and lanes.capped():
                    data = event.data
                    text, logprobs = lanes[data.index].feed(data.delta, data.logprobs)
                    if text:
                        for chunk in output.text(data.index, text, logprobs):
                            yield chunk
            result = stream.result
            assert result is not None  # TaskStream ends at the result, or raises
            answers = result.all_choices()
            for answer in answers:
                tail = lanes.settle(answer, streamed=True)
                for chunk in output.settled(answer, tail):
                    yield chunk
            await self._store(turn, answers[0])
            usage = await self._account(answers)
            closing = await output.closing(result, answers, usage if output.wants_usage else None)
        except Exception as error:  # whatever happened, the stream ends with an error and its end marker
            if isinstance(error, APIError):
                failure = error
            elif isinstance(error, AgentCallError):
                failure = team_failure(error, " mid-answer")
            else:
                log.exception("stream failed unexpectedly")
                failure = APIError("The server had an error while answering; the answer is incomplete.")
            log.warning("stream failed: %s", failure.message)
            for chunk in output.failure(failure):
                yield chunk
            return
        finally:
            await stream.aclose()  # a client that hangs up stops the team's work too
        for chunk in closing:
            yield chunk


async def _whole(tasks: TaskClient, url: str, task: TaskRequest) -> AsyncGenerator[TaskEvent, None]:
    """A task run to its end in one request: its result, as the only event."""
    yield TaskEvent(type=EventType.result, data=await tasks.run(url, task))


async def _replay(opening: list[TaskEvent], rest: AsyncGenerator[TaskEvent, None]) -> AsyncGenerator[TaskEvent, None]:
    """The events already read, then the rest; closing it closes the upstream call."""
    try:
        for event in opening:
            yield event
        async for event in rest:
            yield event
    finally:
        await rest.aclose()
