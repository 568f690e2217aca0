"""The one agent pattern: run the agent's tools, then let the LLM phrase the result, streaming.

An agent only says how to gather (its tools) and what to ask the LLM. Everything else - events,
timing, streaming, token accounting, the result - is here, once.
"""

from __future__ import annotations

import asyncio
import re
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager, aclosing, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from agents.llm import CallPieces, LLMClock, ProseStream
from agents.llm_gate import LLMGate
from agents.structured import StructuredReply
from config import Settings
from config.settings import LLMRole
from orchestration.merged import merged
from orchestration.protocol import (
    AgentName,
    Choice,
    EventType,
    Finding,
    Message,
    Source,
    Step,
    StepStarted,
    TaskEvent,
    TaskRequest,
    TaskResult,
    ToolCall,
    Usage,
    pieces,
    token,
)
from orchestration.tokens import count_message_tokens, count_tokens, counting

TOOL_ROUNDS = 4  # model calls in one reply; the last is told to answer in words (tool_choice "none")


@dataclass
class LLMClients:
    """An agent's two ways to its LLM: LangChain's for replies that are JSON or a function call, and
    a lean stream for prose."""

    role: LLMRole
    chat: ChatOpenAI
    prose: ProseStream


@dataclass
class Gathered:
    """What an agent's tools found, before the LLM phrases it."""

    facts: str  # plain text the LLM is asked to phrase
    data: dict[str, Any] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    detail: str = ""  # one line for the step record
    preamble: str = ""  # exact text the answer starts with (e.g. computed figures)
    footer: str = ""  # exact text the answer ends with (e.g. the sources)
    complete: bool = False  # the tools said it all: no LLM call (nothing found, or figures only)
    llm_seconds: float = 0.0  # spent waiting on the model while gathering (an understanding step)


class OutputCheck(Protocol):
    """Checks the LLM's text as it streams: what passes, with its tokens' logprobs, goes on."""

    def feed(self, text: str, logprobs: list[dict[str, Any]] | None = None) -> str: ...
    def take_logprobs(self) -> list[dict[str, Any]]: ...  # those of the text passed so far
    def finish(self) -> str: ...

    @property
    def done(self) -> bool: ...  # nothing more worth reading from the LLM

    @property
    def report(self) -> str: ...


class Agent(ABC):
    name: AgentName
    system_prompt: str = ""

    @classmethod
    def uses_llm(cls, settings: Settings) -> bool:
        """Whether this agent calls an LLM: only then does its server build a client for one, and
        make its readiness depend on it (the analyst, on the capable profile only)."""
        return settings.calls_llm(cls.name)

    def __init__(self, settings: Settings, llm: LLMClients | None = None):
        self.settings = settings
        self._llm = llm
        self._gate = LLMGate(self.name, settings.llm_concurrency(llm.role), settings.llm_max_queue) if llm else None

    @property
    def llm(self) -> LLMClients:
        if self._llm is None:
            raise RuntimeError(f"the {self.name} uses no LLM")  # a bug: uses_llm said it would not
        return self._llm

    @property
    def gate(self) -> LLMGate:
        """Bounds the LLM calls made at once, and queues the rest."""
        if self._gate is None:
            raise RuntimeError(f"the {self.name} uses no LLM")
        return self._gate

    def llm_slot(self, task: TaskRequest, needed: bool) -> AbstractAsyncContextManager[object]:
        """A place in the LLM queue for an understanding step that asks the model; none for rules."""
        return self.gate.slot(task.deadline) if needed else nullcontext()

    async def start(self) -> None:
        """Load what the agent needs before it serves (an index, a file); default nothing."""

    async def stop(self) -> None:
        """Release what start() took."""

    @abstractmethod
    async def gather(self, task: TaskRequest) -> Gathered:
        """Run the agent's tools. CPU-heavy work goes to a thread, off the event loop."""

    def user_prompt(self, task: TaskRequest, gathered: Gathered) -> str:
        return f"Task: {task.instruction}\n\n{gathered.facts}"

    def llm_kwargs(self, task: TaskRequest) -> dict[str, Any]:
        """Generation parameters for this agent's LLM call; the writer passes the client's down."""
        return {"max_tokens": self.settings.agent_max_tokens, **task.params.team_kwargs(), **self.repeatable(task)}

    def repeatable(self, task: TaskRequest) -> dict[str, Any]:
        """With a seed, llama.cpp must not reuse a cached prompt: the cache changes the arithmetic
        enough to change a greedy answer. (Only for the embedded server: OpenAI refuses the field.)"""
        if task.params.seed is None or not self.settings.uses_local_llm(self.llm.role):
            return {}
        return {"extra_body": {"cache_prompt": False}}

    def history(self, task: TaskRequest) -> list[BaseMessage]:
        return []

    def output_check(self, task: TaskRequest, gathered: Gathered) -> OutputCheck | None:
        """A check the LLM's text passes through before it leaves the agent; default none."""
        return None

    def checked(self, gathered: Gathered, verdict: str) -> None:
        """Record the output check's verdict (or why there was none) in the result; default nothing."""

    def messages(self, task: TaskRequest, gathered: Gathered) -> list[BaseMessage]:
        return [
            SystemMessage(self.system_prompt),
            *self.history(task),
            HumanMessage(self.user_prompt(task, gathered)),
        ]

    async def events(self, task: TaskRequest) -> AsyncGenerator[TaskEvent, None]:
        """The task as a stream of protocol events, ending in one result event."""
        started = time.perf_counter()
        steps: list[Step] = []

        yield TaskEvent(type=EventType.step_started, data=StepStarted(agent=self.name, name="tools"))
        t0 = time.perf_counter()
        gathered = await self.gather(task)
        steps.append(Step(agent=self.name, name="tools", duration_ms=_ms(t0), detail=gathered.detail))
        yield TaskEvent(type=EventType.step_finished, data=steps[-1])

        yield TaskEvent(type=EventType.step_started, data=StepStarted(agent=self.name, name="llm"))
        t0 = time.perf_counter()
        count = task.params.n or 1
        replies = [Reply(index=i) for i in range(count)]
        structured_since = time.perf_counter()
        structured = await self.structured_reply(task, gathered)
        if structured is not None:
            others = await asyncio.gather(*(self.structured_reply(task, gathered) for _ in replies[1:]))
            replies[0].clock.waited = time.perf_counter() - structured_since  # all of it is the LLM's
            sources = [self._structured(s, r) for s, r in zip([structured, *others], replies) if s is not None]
            detail, status = structured.detail, "ok"
            self.checked(gathered, "not checked: the reply is JSON or a function call")
        else:
            sources = [self._phrased(task, gathered, r) for r in replies]
            detail = "not needed: the tools' output is the answer" if gathered.complete else self.llm.chat.model_name
            status = "skipped" if gathered.complete else "ok"
        async for _, event in merged(sources):  # n choices generate side by side
            yield event
        if any(r.capped for r in replies):
            detail += f"; stopped at the team's own cap of {self.llm_kwargs(task).get('max_tokens')} tokens"
        steps.append(Step(agent=self.name, name="llm", duration_ms=_ms(t0), detail=detail, status=status))
        yield TaskEvent(type=EventType.step_finished, data=steps[-1])

        first = replies[0]
        outputs = ["".join(r.parts) for r in replies]
        usage = await self._usage(replies, outputs)
        several = count > 1 or bool(task.params.logprobs)
        yield TaskEvent(
            type=EventType.result,
            data=TaskResult(
                task_id=task.task_id,
                agent=self.name,
                output=outputs[0],
                data=gathered.data,
                sources=gathered.sources,
                usage=usage,
                duration_ms=_ms(started),
                # the choices run side by side; an understanding step's model call came before them
                llm_ms=round((max(r.clock.waited for r in replies) + gathered.llm_seconds) * 1000, 1),
                steps=steps,
                finish_reason=first.finish_reason,
                tool_calls=first.tool_calls,
                profile=self.settings.profile(self.name),
                choices=[
                    Choice(
                        index=r.index,
                        output=text,
                        finish_reason=r.finish_reason,
                        tool_calls=r.tool_calls,
                        logprobs=r.logprobs if task.params.logprobs else None,
                    )
                    for r, text in zip(replies, outputs)
                ]
                if several
                else [],
            ),
        )

    async def structured_reply(self, task: TaskRequest, gathered: Gathered) -> StructuredReply | None:
        """A reply that is JSON or a function call instead of prose; default none (the writer's)."""
        return None

    async def _structured(self, structured: StructuredReply, reply: Reply) -> AsyncGenerator[TaskEvent, None]:
        reply.tool_calls = structured.tool_calls
        reply.finish_reason = "tool_calls" if structured.tool_calls else "stop"
        for piece in pieces(structured.content):
            reply.parts.append(piece)
            yield token(piece, self.name, reply.index)

    async def _phrased(self, task: TaskRequest, gathered: Gathered, reply: Reply) -> AsyncGenerator[TaskEvent, None]:
        """The preamble, the LLM's text as it streams (through the output check), the footer."""
        index = reply.index
        if gathered.preamble:
            reply.parts.append(gathered.preamble)
            for piece in _words(gathered.preamble):  # a composed answer streams too
                yield token(piece, self.name, index)
        reply.messages = self.messages(task, gathered) if not gathered.complete else []
        check = self.output_check(task, gathered) if reply.messages else None
        if reply.messages:
            async with self.gate.slot(task.deadline), aclosing(self._generated(task, reply, check)) as generated:
                async for event in generated:  # closed with this: a hang-up stops the LLM at once
                    yield event
        if check and index == 0:
            self.checked(gathered, check.report)
        if gathered.footer:
            reply.parts.append(gathered.footer)
            yield token(gathered.footer, self.name, index)

    async def _generated(
        self, task: TaskRequest, reply: Reply, check: OutputCheck | None
    ) -> AsyncGenerator[TaskEvent, None]:
        """The LLM's text as it streams, through the output check; when the model calls a tool, the
        agent answers it (tools_called) and the model goes on, for up to TOOL_ROUNDS rounds."""
        index = reply.index
        for round_ in range(TOOL_ROUNDS):
            calls = CallPieces()
            kwargs = self.llm_kwargs(task)
            if round_ == TOOL_ROUNDS - 1 and "tools" in kwargs:
                kwargs["tool_choice"] = "none"  # the last round answers in words, whatever it was told before
            async for delta in self.llm.prose.stream(reply.messages, reply.clock, task.stream, **kwargs):
                text, logprobs = delta.text, delta.logprobs
                if delta.usage:
                    reply.usage = _added(reply.usage, delta.usage)
                calls.add(delta.tool_calls)
                if check and (text or logprobs):
                    text = check.feed(text, logprobs)
                    logprobs = check.take_logprobs()
                if text:
                    reply.parts.append(text)
                    reply.logprobs += logprobs
                    yield token(text, self.name, index, logprobs or None)
                if reason := delta.finish_reason:
                    # "length" is the client's own cap only; the team's safety cap on a looping model ends
                    # the answer as it is ("stop"), and the step says so
                    reply.finish_reason = "length" if reason == "length" and task.params.max_tokens else "stop"
                    reply.capped = reason == "length" and not task.params.max_tokens
                if check and check.done:
                    break  # closing the stream stops the generation upstream
            if not calls.calls or not await self.tools_called(task, reply, calls.done(), check):
                break
        if check and (text := check.finish()):
            logprobs = check.take_logprobs()
            reply.parts.append(text)
            reply.logprobs += logprobs
            yield token(text, self.name, index, logprobs or None)

    async def tools_called(
        self, task: TaskRequest, reply: Reply, calls: list[dict[str, str]], check: OutputCheck | None
    ) -> bool:
        """The model called tools: answer them into reply.messages and return True for the model to go
        on, or return False when the calls are the reply. Default: they are the reply."""
        reply.tool_calls = [ToolCall(name=c["name"], arguments=c["arguments"]) for c in calls]
        reply.finish_reason = "tool_calls"
        return False

    async def _usage(self, replies: list[Reply], outputs: list[str]) -> Usage:
        """The tokens the LLM says it used; counted with tiktoken when it does not say."""
        reported = [r.usage for r in replies if r.usage]
        if reported and len(reported) == len(replies):
            prompt = reported[0].get("prompt_tokens", 0)  # the choices share one prompt
            completion = sum(u.get("completion_tokens", 0) for u in reported)
            return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
        messages, output = replies[0].messages, "".join(outputs)
        return await counting(
            lambda: self._count(messages, output), sum(len(str(m.content)) for m in messages) + len(output)
        )

    def _count(self, messages: list[BaseMessage], output: str) -> Usage:
        model = self._llm.chat.model_name if self._llm else ""  # "": tiktoken's default encoding
        prompt = count_message_tokens([(m.type, str(m.content)) for m in messages], model) if messages else 0
        completion = count_tokens(output, model)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


@dataclass
class Reply:
    """What the LLM step produced for one choice, filled in as its events go out."""

    index: int = 0
    parts: list[str] = field(default_factory=list)
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    tool_calls: list[ToolCall] = field(default_factory=list)
    messages: list[BaseMessage] = field(default_factory=list)
    clock: LLMClock = field(default_factory=LLMClock)
    usage: dict[str, int] | None = None  # as the LLM reported it
    capped: bool = False  # stopped at the team's own token cap, not the client's


def _added(before: dict[str, int] | None, more: dict[str, int]) -> dict[str, int]:
    """Usage over a reply's rounds (a tool round is one more call)."""
    if not before:
        return dict(more)
    return {k: before.get(k, 0) + more.get(k, 0) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}


def _words(text: str) -> list[str]:
    """Text that exists whole, in pieces of a few words each, as the client would see a model's."""
    words = re.findall(r"\S+\s*|\s+", text)
    return ["".join(words[i : i + 4]) for i in range(0, len(words), 4)] or [text]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def conversation_messages(messages: list[Message]) -> list[BaseMessage]:
    """Earlier turns as LangChain messages (system and tool turns are left to each agent)."""
    out: list[BaseMessage] = []
    called: dict[str, str] = {}  # tool call id -> function name
    for message in messages:
        if message.role == "user":
            out.append(HumanMessage(message.content))
        elif message.role == "assistant" and message.tool_calls:
            called |= {call.id: call.name for call in message.tool_calls}
            out.append(AIMessage(" ".join(f"(Called {c.name} with {c.arguments}.)" for c in message.tool_calls)))
        elif message.role == "assistant":
            out.append(AIMessage(message.content))
        elif message.role == "tool":  # a function's result, as plain text any model can read
            name = message.name or called.get(message.tool_call_id or "", "the function")
            out.append(HumanMessage(f"Result of {name}: {message.content}"))
    return out


def findings_text(findings: list[Finding], exclude: str | None = None) -> str:
    """The findings of earlier agents, as the next agent's LLM reads them."""
    blocks = []
    for finding in findings:
        if finding.agent == exclude or finding.data.get("empty"):
            continue  # an agent that found nothing has nothing to tell the next one
        if finding.status == "ok":
            blocks.append(f"## From the {finding.agent}\n{finding.output.strip()}")
        else:
            blocks.append(
                f"## From the {finding.agent}: MISSING\nThe {finding.agent} failed ({finding.error}); "
                "its findings are not available. Say so briefly."
            )
    return "\n\n".join(blocks)
