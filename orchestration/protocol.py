"""The inter-agent protocol: the one module every server speaks.

`POST /v1/tasks` takes a `TaskRequest`. Without streaming it answers a `TaskResult` (HTTP 200) or
an error body with a non-200 status. With `"stream": true` it answers Server-Sent Events whose
`event:` is one of `EventType` and whose `data:` is the JSON of the matching model below.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from enum import Enum
from typing import Any, Literal, TypeVar

import aiohttp
from pydantic import BaseModel, ConfigDict, Field
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from orchestration.http import CONNECT_TIMEOUT
from orchestration.sse import events_of, frame

TASKS_PATH = "/v1/tasks"
AgentName = Literal["researcher", "analyst", "writer"]  # the built-in agents, each a server of its own
AGENT_NAMES: tuple[AgentName, ...] = ("researcher", "analyst", "writer")
MemberName = str  # any agent of the team file: a built-in one or a member of the user's own


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


class GenerationParams(BaseModel):
    """OpenAI generation parameters, passed down unchanged to the LLM that writes the answer."""

    model_config = ConfigDict(extra="forbid")
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    n: int | None = None  # choices: the writer's completions, sharing the team's findings
    logprobs: bool | None = None
    top_logprobs: int | None = None

    def llm_kwargs(self) -> dict[str, Any]:
        """The parameters that were set, as keyword arguments for a chat-completions call."""
        kwargs = self.model_dump(exclude_none=True, exclude={"user", "n", "logprobs", "top_logprobs"})
        if self.logprobs:  # at least 1: llama.cpp returns no logprobs at all for 0 (the gateway trims)
            kwargs |= {"logprobs": True, "top_logprobs": max(self.top_logprobs or 0, 1)}
        return kwargs

    def team_kwargs(self) -> dict[str, Any]:
        """What every agent's LLM call takes from the client: a seed (with its temperature), so the
        same request gives the same answer across the whole team."""
        if self.seed is None:
            return {}
        return {"seed": self.seed} | ({"temperature": self.temperature} if self.temperature is not None else {})


class ToolCall(BaseModel):
    """A call of one of the client's functions, as the writer decided it."""

    id: str = Field(default_factory=lambda: f"call_{uuid.uuid4().hex[:24]}")
    name: str
    arguments: str  # JSON text, valid against the function's parameters


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCall] | None = None  # an assistant turn that called the client's tools


class Source(BaseModel):
    """Where a passage came from: a file and heading of the knowledge base, or a web page."""

    ref: int
    title: str
    location: str
    snippet: str = ""
    score: float | None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class Finding(BaseModel):
    """What one agent contributed, handed to the agents after it."""

    agent: MemberName
    status: Literal["ok", "failed"]
    output: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)
    error: str | None = None


class TaskRequest(BaseModel):
    task_id: str = Field(default_factory=lambda: new_id("task"))
    request_id: str = Field(default_factory=lambda: new_id("req"))
    conversation_id: str | None = None
    instruction: str
    messages: list[Message] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    params: GenerationParams = Field(default_factory=GenerationParams)
    # the client's functions and output format, for the final voice (the writer)
    tools: list[dict[str, Any]] = Field(default_factory=list, description="OpenAI function tools")
    tool_choice: str | dict[str, Any] | None = None  # auto | none | required | {"type": "function", ...}
    parallel_tool_calls: bool = True
    response_format: dict[str, Any] | None = None  # json_object or json_schema
    deadline: float = Field(default_factory=lambda: time.time() + 120.0, description="Unix time")
    stream: bool = False

    def seconds_left(self) -> float:
        return self.deadline - time.time()


class Step(BaseModel):
    """One thing an agent (or the supervisor) did, with its timing."""

    agent: str
    name: str
    status: Literal["ok", "failed", "skipped"] = "ok"
    duration_ms: float = 0.0
    detail: str = ""
    agents: list[str] = Field(default_factory=list, description="The plan step: the team it chose")


class AgentRun(BaseModel):
    """The supervisor's record of one agent call."""

    agent: MemberName
    status: Literal["ok", "failed"]
    started_ms: float = 0.0  # after the team began
    duration_ms: float
    llm_ms: float = 0.0  # of which waiting on its LLM
    usage: Usage = Field(default_factory=Usage)
    iteration: int = 1
    error: str | None = None
    profile: str = ""  # the agent's capability profile: basic (rules decide) or capable (the model does)
    understood_by: str = ""  # its understanding step: "rules", "model", or rules with why the model's was not used


class Choice(BaseModel):
    """One of the writer's n completions."""

    index: int
    output: str
    finish_reason: Literal["stop", "length", "tool_calls"] = "stop"
    tool_calls: list[ToolCall] = Field(default_factory=list)
    logprobs: list[dict[str, Any]] | None = None  # OpenAI's logprobs.content, for the LLM's tokens


class TaskResult(BaseModel):
    task_id: str
    agent: str
    status: Literal["completed", "degraded"] = "completed"
    output: str
    data: dict[str, Any] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    duration_ms: float = 0.0
    llm_ms: float = Field(0.0, description="Of the duration, the time spent waiting on LLMs, on the critical path")
    steps: list[Step] = Field(default_factory=list)
    trace: list[AgentRun] = Field(default_factory=list, description="Supervisor only")
    iterations: int = 0
    finish_reason: Literal["stop", "length", "tool_calls"] = "stop"
    tool_calls: list[ToolCall] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list, description="Every choice, when n > 1 or logprobs")
    profile: str = Field("", description="The agent's capability profile (an agent's own result)")

    def all_choices(self) -> list[Choice]:
        return self.choices or [
            Choice(index=0, output=self.output, finish_reason=self.finish_reason, tool_calls=self.tool_calls)
        ]


class ErrorInfo(BaseModel):
    message: str
    # agent_error (the agent broke), llm_unavailable (its LLM did; the agent is fine), llm_busy (its
    # LLM's slots and queue are full), deadline_exceeded (the request's deadline passed: busy, not broken)
    type: str = "agent_error"
    agent: str | None = None
    retry_after: float | None = None  # seconds until a try again may succeed, when known

    @classmethod
    def of(cls, error: BaseException, agent: str) -> ErrorInfo:
        kind, retry_after = "agent_error", None
        if isinstance(error, AgentCallError):
            kind = (
                "deadline_exceeded"
                if error.deadline
                else "llm_busy"
                if error.busy
                else "llm_unavailable"
                if error.llm
                else "agent_error"
            )
            retry_after = error.retry_after
        return cls(message=str(error) or type(error).__name__, type=kind, agent=agent, retry_after=retry_after)


class EventType(str, Enum):
    step_started = "step_started"
    step_finished = "step_finished"
    token = "token"
    result = "result"
    error = "error"


class StepStarted(BaseModel):
    agent: str
    name: str


class Token(BaseModel):
    delta: str
    agent: str | None = None
    index: int = 0  # the choice it belongs to
    logprobs: list[dict[str, Any]] | None = None


EVENT_MODELS: dict[EventType, type[BaseModel]] = {
    EventType.step_started: StepStarted,
    EventType.step_finished: Step,
    EventType.token: Token,
    EventType.result: TaskResult,
    EventType.error: ErrorInfo,
}


class TaskEvent(BaseModel):
    type: EventType
    data: StepStarted | Step | Token | TaskResult | ErrorInfo

    @classmethod
    def parse(cls, event: str, data: str | bytes) -> TaskEvent:
        kind = EventType(event)
        return cls(type=kind, data=EVENT_MODELS[kind].model_validate_json(data))

    def to_sse(self) -> bytes:
        """The event on the wire: one server-sent event."""
        return frame(self.data.model_dump_json().encode(), self.type.value)


def token(
    delta: str, agent: str | None = None, index: int = 0, logprobs: list[dict[str, Any]] | None = None
) -> TaskEvent:
    return TaskEvent(type=EventType.token, data=Token(delta=delta, agent=agent, index=index, logprobs=logprobs))


def pieces(text: str, size: int = 16) -> list[str]:
    """Text that exists whole (JSON, a computed line, a call's arguments) still streams, in small pieces."""
    return [text[i : i + size] for i in range(0, len(text), size)]


async def within(events: AsyncGenerator[TaskEvent, None], deadline: float) -> AsyncGenerator[TaskEvent, None]:
    """The events, until the deadline (Unix time): then AgentCallError, and the source is closed.

    Each wait is bounded by the time left, so keep-alive pings from below cannot stretch it."""
    try:
        while True:
            try:
                async with asyncio.timeout(max(deadline - time.time(), 0.0)):
                    event = await anext(events)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise AgentCallError("the request's deadline passed", deadline=True) from None
            yield event
    finally:
        await events.aclose()


class TaskStream:
    """A task's events up to its one result: iterate for the events before it, then read `result`.

    Stopping at the result, and turning an error event or a missing result into AgentCallError, is
    what every reader of a task needs; it is written here once.
    """

    def __init__(self, events: AsyncGenerator[TaskEvent, None]):
        self.events = events
        self.result: TaskResult | None = None

    async def __aiter__(self) -> AsyncGenerator[TaskEvent, None]:
        async for event in self.events:
            if isinstance(event.data, TaskResult):
                self.result = event.data
                return
            if isinstance(event.data, ErrorInfo):
                raise AgentCallError.of(event.data)
            yield event
        raise AgentCallError("the task's events ended without a result")

    async def drain(self) -> TaskResult:
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    async def aclose(self) -> None:
        await self.events.aclose()  # closing the events closes the upstream call


# --- errors -----------------------------------------------------------------------------------
class AgentCallError(Exception):
    """A call to another server failed; `retryable` is true only where nothing can have run twice."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        deadline: bool = False,
        llm: bool = False,
        busy: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.deadline = deadline  # the request's deadline passed (the caller answers 504, not 503)
        self.llm = llm  # the agent's LLM failed, not the agent
        self.busy = busy  # the agent's LLM had no slot free in time: refused before any generation
        self.retry_after = retry_after  # seconds until a try again may succeed, when known

    @classmethod
    def of(cls, info: ErrorInfo, status: int | None = None) -> AgentCallError:
        return cls(
            info.message,
            status=status,
            retryable=status in RETRYABLE_STATUSES,
            deadline=info.type == "deadline_exceeded" or status == 504,
            llm=info.type == "llm_unavailable",
            busy=info.type == "llm_busy",
            retry_after=info.retry_after,
        )

    @property
    def shows_broken(self) -> bool:
        """Whether the failure says the agent itself is broken (refused, reset, its own 5xx), which is
        what a circuit breaker counts; a passed deadline or a failing LLM behind it does not."""
        return not (self.deadline or self.llm or self.busy)


# Only a refusal before any work is safe to repeat: 503 is what a server answers when it takes no
# work (starting, shutting down, overloaded). 502 and 504 may come after the work ran.
RETRYABLE_STATUSES = {503}


def _raise_for_status(response: aiohttp.ClientResponse, body: bytes) -> None:
    if response.status == 200:
        return
    try:
        info = ErrorInfo.model_validate_json(body)
    except ValueError:
        info = ErrorInfo(message=body.decode(errors="replace")[:300] or (response.reason or ""))
    raise AgentCallError.of(
        info.model_copy(update={"message": f"HTTP {response.status}: {info.message}"}), status=response.status
    )  # 504: the task route's answer when the deadline passed


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, AgentCallError) and error.retryable


# --- the client ---------------------------------------------------------------------------------
class TaskClient:
    """Calls `/v1/tasks` on another server over the process's one shared connection pool."""

    def __init__(self, session: aiohttp.ClientSession, attempts: int = 3, internal_token: str = ""):
        self.session = session
        self.attempts = attempts
        self.internal_token = internal_token  # the supervisor and agents answer only holders of it

    def _headers(self, task: TaskRequest) -> dict[str, str]:
        headers = {"x-request-id": task.request_id, "content-type": "application/json"}
        if self.internal_token:
            headers["authorization"] = f"Bearer {self.internal_token}"
        if task.conversation_id:
            headers["x-conversation-id"] = task.conversation_id
        return headers

    async def _post(
        self, base_url: str, task: TaskRequest, stream: bool, timeout: aiohttp.ClientTimeout | None = None
    ) -> aiohttp.ClientResponse:
        """The task sent, and the response once it says 200. Retried with backoff only when it never
        reached the other side (a refused connection, or a 503 refusal): the one layer of retries in
        Chorus, for whole and streamed tasks alike. Once a response is read nothing is retried."""
        body = for_callee(task, stream=stream).model_dump_json()
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.1, max=1.0),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                try:
                    response = await self.session.post(
                        base_url + TASKS_PATH,
                        data=body,
                        headers=self._headers(task),
                        timeout=timeout or self.session.timeout,
                    )
                except aiohttp.ClientError as error:
                    raise _transport_error(error) from error
                if response.status != 200:
                    try:
                        _raise_for_status(response, await response.read())
                    finally:
                        response.release()
                return response
        raise AssertionError("unreachable")

    async def run(self, base_url: str, task: TaskRequest) -> TaskResult:
        """Run a task to completion, within its deadline."""
        try:
            async with asyncio.timeout(max(task.seconds_left(), 0.001)):
                response = await self._post(base_url, task, stream=False)
                try:
                    content = await response.read()
                except aiohttp.ClientError as error:
                    raise _transport_error(error) from error
                finally:
                    response.release()
        except TimeoutError:
            raise AgentCallError("the request's deadline passed", deadline=True) from None
        return _parsed(TaskResult.model_validate_json, base_url, content)

    async def stream(self, base_url: str, task: TaskRequest) -> AsyncGenerator[TaskEvent, None]:
        """Stream a task's events as they come.

        The whole-task deadline is the caller's to enforce (an asyncio.timeout around the loop that
        consumes this); here each read waits at most until the deadline.
        """
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT, sock_read=max(task.seconds_left(), 0.001)
        )
        response = await self._post(base_url, task, stream=True, timeout=timeout)
        try:
            async for event, data in events_of(response.content.iter_any()):
                yield _parsed(TaskEvent.parse, base_url, event, data)
        except aiohttp.ClientError as error:
            raise _transport_error(error) from error
        finally:
            response.release()  # read to its end: back to the pool; else closed, which stops the task below


def for_callee(task: TaskRequest, stream: bool) -> TaskRequest:
    """The task as sent: its deadline a little earlier than the caller's own, so that the server
    below gives up first and its answer (a degraded one, or an error) still reaches the caller."""
    margin = min(1.0, max(0.05, 0.05 * task.seconds_left()))
    return task.model_copy(update={"stream": stream, "deadline": task.deadline - margin})


T = TypeVar("T")


def _parsed(parse: Callable[..., T], base_url: str, *args: Any) -> T:
    """A reply that does not follow the protocol is the agent's failure (the team degrades), not ours."""
    try:
        return parse(*args)
    except ValueError as error:  # pydantic's ValidationError, or an unknown event type
        raise AgentCallError(f"{base_url} sent a malformed reply: {str(error)[:200]}") from error


def _transport_error(error: aiohttp.ClientError) -> AgentCallError:
    return AgentCallError(f"{type(error).__name__}: {error}", retryable=never_reached(error))


def never_reached(error: BaseException) -> bool:
    """Whether the call failed before a connection existed, so the other side cannot have run it.
    A reset or a disconnect in the middle of a task is never retried."""
    return isinstance(error, aiohttp.ClientConnectorError)
