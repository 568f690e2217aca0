"""The OpenAI wire types the gateway speaks: requests in, responses and stream chunks out."""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from servers.gateway.errors import BadRequest
from orchestration.protocol import AgentRun, GenerationParams, Message, TaskResult


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_call_id: str | None = None

    def to_message(self, index: int) -> Message:
        if isinstance(self.content, list):
            for part in self.content:
                if part.type != "text" or part.text is None:
                    raise BadRequest(f"Content parts of type '{part.type}' are not supported; "
                                     "send text parts.", param=f"messages.{index}.content")
            text = "".join(part.text or "" for part in self.content)
        else:
            text = self.content or ""
        role = "tool" if self.role == "function" else self.role
        return Message(role=role, content=text, name=self.name, tool_call_id=self.tool_call_id)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool | None = None


class SamplingFields(BaseModel):
    """Generation fields shared by chat and legacy completions."""

    model_config = ConfigDict(extra="allow")  # unknown fields are ignored, not rejected
    model: str
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    n: int | None = Field(None, ge=1, le=128)
    logprobs: bool | int | None = None
    metadata: dict[str, str] | None = None
    conversation_id: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("stop")
    @classmethod
    def _at_most_four(cls, value):
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value

    def generation_params(self, max_tokens: int | None) -> GenerationParams:
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        return GenerationParams(
            temperature=self.temperature, top_p=self.top_p, max_tokens=max_tokens, stop=stop or None,
            seed=self.seed, presence_penalty=self.presence_penalty,
            frequency_penalty=self.frequency_penalty, logit_bias=self.logit_bias, user=self.user,
        )

    def refuse_unfinished(self) -> None:
        """Parameters not served yet are refused clearly, never silently ignored."""
        if self.n is not None and self.n > 1:
            raise BadRequest("n > 1 is not supported yet; ask for one choice.", param="n",
                             code="unsupported_parameter")
        if self.logprobs:
            raise BadRequest("logprobs are not supported yet.", param="logprobs",
                             code="unsupported_parameter")


class ChatCompletionRequest(SamplingFields):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    top_logprobs: int | None = Field(None, ge=0, le=20)
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None

    def refuse_unfinished(self) -> None:
        super().refuse_unfinished()
        if self.tools:
            raise BadRequest("Tool calling is not supported yet; send the request without tools.",
                             param="tools", code="unsupported_parameter")
        if self.tool_choice not in (None, "none", "auto"):
            raise BadRequest("tool_choice is not supported yet.", param="tool_choice",
                             code="unsupported_parameter")
        if self.response_format and self.response_format.get("type") not in (None, "text"):
            raise BadRequest("response_format other than text is not supported yet.",
                             param="response_format", code="unsupported_parameter")
        if self.top_logprobs:
            raise BadRequest("top_logprobs is not supported yet.", param="top_logprobs",
                             code="unsupported_parameter")


class CompletionRequest(SamplingFields):
    prompt: str | list[str]
    echo: bool | None = False
    suffix: str | None = None
    best_of: int | None = Field(None, ge=1)

    def refuse_unfinished(self) -> None:
        super().refuse_unfinished()
        if self.suffix:
            raise BadRequest("suffix (insertion) is not supported.", param="suffix",
                             code="unsupported_parameter")
        if self.best_of is not None and self.best_of > 1:
            raise BadRequest("best_of > 1 is not supported.", param="best_of",
                             code="unsupported_parameter")

    @property
    def prompt_text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else "\n".join(self.prompt)


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(None, ge=1)
    user: str | None = None


# --- responses --------------------------------------------------------------------------------
def completion_id(prefix: str = "chatcmpl") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


def usage_block(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def trace_of(result: TaskResult) -> list[AgentRun]:
    """A team result carries its trace; one agent reached directly is its own trace."""
    if result.trace:
        return result.trace
    return [AgentRun(agent=result.agent, status="ok", duration_ms=result.duration_ms,
                     usage=result.usage, iteration=1)]


def metadata_block(result: TaskResult, conversation_id: str, seconds: float) -> dict[str, str]:
    """OpenAI's metadata: a map of strings."""
    trace = trace_of(result)
    used = list(dict.fromkeys(run.agent for run in trace))
    failed = list(dict.fromkeys(run.agent for run in trace if run.status == "failed"))
    block = {
        "agents_used": ",".join(used),
        "execution_time_seconds": f"{seconds:.3f}",
        "iterations": str(max(result.iterations, 1 if trace else 0)),
        "conversation_id": conversation_id,
        "status": result.status if not failed else "degraded",
    }
    if failed:
        block["failed_agents"] = ",".join(failed)
    if isinstance(result.data.get("grounding"), str):
        block["grounding"] = result.data["grounding"]
    return block


def agent_trace_block(result: TaskResult) -> list[dict[str, Any]]:
    return [run.model_dump() for run in trace_of(result)]
