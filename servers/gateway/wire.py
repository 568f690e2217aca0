"""The OpenAI wire types the gateway speaks: requests in, responses and stream chunks out."""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any, Literal

import jsonschema
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from config.settings import ProgressMode
from orchestration.protocol import AgentRun, GenerationParams, Message, TaskResult, ToolCall, pieces
from orchestration.sse import frame
from servers.gateway.errors import BadRequest


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class FunctionCall(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    arguments: str = "{}"


class ToolCallItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCallItem] | None = None
    function_call: FunctionCall | None = None  # the legacy form of one call

    def to_message(self, index: int) -> Message:
        if isinstance(self.content, list):
            for part in self.content:
                if part.type != "text" or part.text is None:
                    raise BadRequest(
                        f"Content parts of type '{part.type}' are not supported; send text parts.",
                        param=f"messages.{index}.content",
                    )
            text = "".join(part.text or "" for part in self.content)
        else:
            text = self.content or ""
        role = "tool" if self.role == "function" else self.role
        calls = [ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments) for c in self.tool_calls or []]
        if self.function_call:
            calls.append(
                ToolCall(
                    id=f"call_{self.function_call.name}",
                    name=self.function_call.name,
                    arguments=self.function_call.arguments,
                )
            )
        tool_call_id = self.tool_call_id or (f"call_{self.name}" if self.role == "function" else None)
        return Message(role=role, content=text, name=self.name, tool_call_id=tool_call_id, tool_calls=calls or None)


NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"


def _check_schema(schema: dict[str, Any]) -> dict[str, Any]:
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as error:
        raise ValueError(f"not a valid JSON Schema: {error.message}") from None
    return schema


JSONSchema = Annotated[dict[str, Any], AfterValidator(_check_schema)]


class FunctionSpec(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    parameters: JSONSchema | None = None
    strict: bool | None = None


class ToolSpec(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["function"]
    function: FunctionSpec


class NamedFunction(BaseModel):
    name: str


class NamedToolChoice(BaseModel):
    type: Literal["function"]
    function: NamedFunction


class JSONSchemaFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    schema_: JSONSchema | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchemaFormat | None = None

    @property
    def wants_json(self) -> bool:
        return self.type != "text"

    @property
    def target_schema(self) -> dict[str, Any]:
        if self.type == "json_schema" and self.json_schema and self.json_schema.schema_:
            return self.json_schema.schema_
        return {"type": "object"}

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool | None = None


class SamplingFields(BaseModel):
    """Generation fields shared by chat and legacy completions."""

    model_config = ConfigDict(extra="allow")  # unknown fields are ignored, not rejected
    model: str
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=0)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    n: int | None = Field(None, ge=1, le=128)  # MAX_CHOICES decides, before any work
    logprobs: bool | int | None = None
    # Any JSON values, as Vapi sends them; OpenAI's strings-only rule matters only where OpenAI
    # stores metadata, and Chorus records it as sent. Only a string conversation_id names one.
    metadata: dict[str, Any] | None = None
    conversation_id: str | None = Field(None, min_length=1, max_length=200)
    chorus_progress: ProgressMode | None = None  # CHORUS_PROGRESS, for this request

    @field_validator("stop")
    @classmethod
    def _at_most_four(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value

    def generation_params(self, max_tokens: int | None) -> GenerationParams:
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        return GenerationParams(  # an LLM call needs one token at least; the gateway cuts the answer to 0
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=max(max_tokens, 1) if max_tokens is not None else None,
            stop=stop or None,
            seed=self.seed,
            presence_penalty=self.presence_penalty,
            frequency_penalty=self.frequency_penalty,
            logit_bias=self.logit_bias,
            user=self.user,
            n=self.n,
            logprobs=self.logprobs is not None and self.logprobs is not False,
            top_logprobs=self.top_logprob_count,
        )

    @property
    def top_logprob_count(self) -> int | None:
        # chat sends top_logprobs beside logprobs: true; legacy completions send logprobs: <count>
        if isinstance(self.logprobs, int) and not isinstance(self.logprobs, bool):
            return self.logprobs
        return getattr(self, "top_logprobs", None)

    def refuse_unfinished(self) -> None:
        """Parameters not served are refused clearly, never silently ignored."""


class ChatCompletionRequest(SamplingFields):
    messages: list[ChatMessage] = Field(min_length=1)
    # Vapi's custom LLM adds these objects; `call.id` keys the conversation, and all are recorded
    call: dict[str, Any] | None = None
    phoneNumber: dict[str, Any] | None = None
    customer: dict[str, Any] | None = None
    max_completion_tokens: int | None = Field(None, ge=0)
    top_logprobs: int | None = Field(None, ge=0, le=20)
    response_format: ResponseFormat | None = None
    tools: list[ToolSpec] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    functions: list[FunctionSpec] | None = None  # the legacy form of tools
    function_call: Literal["none", "auto"] | NamedFunction | None = None

    @property
    def legacy_functions(self) -> bool:
        return bool(self.functions) and not self.tools

    def tool_dicts(self) -> list[dict[str, Any]]:
        tools = self.tools or [ToolSpec(type="function", function=f) for f in self.functions or []]
        return [t.model_dump(exclude_none=True) for t in tools]

    def tool_choice_value(self) -> str | dict[str, Any] | None:
        choice = self.tool_choice if self.tool_choice is not None else self.function_call
        if isinstance(choice, NamedFunction):
            return {"type": "function", "function": {"name": choice.name}}
        if isinstance(choice, NamedToolChoice):
            return choice.model_dump()
        return choice

    def function_schema(self, name: str) -> dict[str, Any] | None:
        for tool in self.tool_dicts():
            if tool["function"]["name"] == name:
                return tool["function"].get("parameters") or {"type": "object"}
        return None

    def refuse_unfinished(self) -> None:
        super().refuse_unfinished()
        choice = self.tool_choice_value()
        if choice not in (None, "none", "auto") and not self.tool_dicts():
            raise BadRequest("tool_choice needs tools to choose from.", param="tool_choice")
        if isinstance(choice, dict) and self.function_schema(choice["function"]["name"]) is None:
            raise BadRequest(
                f"tool_choice names '{choice['function']['name']}', which is not among the tools.", param="tool_choice"
            )
        if self.top_logprobs and not self.logprobs:
            raise BadRequest("top_logprobs needs logprobs: true.", param="top_logprobs")


MAX_PROMPTS = 16  # each prompt is a run of the whole team


class CompletionRequest(SamplingFields):
    prompt: str | Annotated[list[str], Field(min_length=1, max_length=MAX_PROMPTS)]
    echo: bool | None = False
    suffix: str | None = None
    best_of: int | None = Field(None, ge=0, le=20)

    def refuse_unfinished(self) -> None:
        super().refuse_unfinished()
        if self.suffix:
            raise BadRequest("suffix (insertion) is not supported.", param="suffix", code="unsupported_parameter")
        if self.best_of is not None and self.best_of > 1:
            raise BadRequest("best_of > 1 is not supported.", param="best_of", code="unsupported_parameter")

    @property
    def prompts(self) -> list[str]:
        """One choice (or n) per prompt, as OpenAI answers a list."""
        return [self.prompt] if isinstance(self.prompt, str) else self.prompt

    def prompt_for_choice(self, index: int, per_prompt: int) -> str:
        return self.prompts[index // per_prompt]


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
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def trace_of(result: TaskResult) -> list[AgentRun]:
    """A team result carries its trace; one agent reached directly is its own trace."""
    if result.trace:
        return result.trace
    return [AgentRun(agent=result.agent, status="ok", duration_ms=result.duration_ms, usage=result.usage, iteration=1)]


def overhead_ms(seconds: float, result: TaskResult) -> float:
    """What Chorus itself added: the whole time, less the time spent waiting on LLMs."""
    return max(seconds * 1000 - result.llm_ms, 0.0)


def metadata_block(result: TaskResult, conversation_id: str, seconds: float) -> dict[str, str]:
    """OpenAI's metadata: a map of strings."""
    trace = trace_of(result)
    used = list(dict.fromkeys(run.agent for run in trace))
    failed = list(dict.fromkeys(run.agent for run in trace if run.status == "failed"))
    block = {
        "agents_used": ",".join(used),
        "execution_time_seconds": f"{seconds:.3f}",
        "llm_time_seconds": f"{result.llm_ms / 1000:.3f}",
        "overhead_ms": f"{overhead_ms(seconds, result):.1f}",
        "iterations": str(max(result.iterations, 1 if trace else 0)),
        "conversation_id": conversation_id,
        "status": result.status if not failed else "degraded",
    }
    if failed:
        block["failed_agents"] = ",".join(failed)
    if isinstance(result.data.get("grounding"), str):
        block["grounding"] = result.data["grounding"]
    if isinstance(plan := result.data.get("plan"), dict) and plan.get("planned_by"):
        block["planned_by"] = plan["planned_by"]  # "llm", "rules", or rules with why the model's plan was not used
    return block


def agent_trace_block(result: TaskResult) -> list[dict[str, Any]]:
    return [run.model_dump() for run in trace_of(result)]


def findings_blocks(result: TaskResult) -> dict[str, list[dict[str, Any]]]:
    """What the answer rests on, beside it: the figures the analyst computed, and the sources the
    answer cites (by their [n] in its text)."""
    computed = [
        {name: c.get(name) for name in ("label", "expression", "figure", "display")}
        for c in result.data.get("computations", [])
        if isinstance(c, dict)
    ]
    cited = [
        {"ref": s.ref, "title": s.title, "location": s.location}
        for s in result.sources
        if f"[{s.ref}]" in result.output
    ]
    return {"computations": computed, "sources": cited}


def tool_call_block(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def tool_call_deltas(calls: list[ToolCall], legacy: bool) -> list[dict[str, Any]]:
    """A call as a stream sends it: the id and name first, then the arguments in pieces."""
    deltas: list[dict[str, Any]] = []
    for index, call in enumerate(calls[:1] if legacy else calls):
        if legacy:
            deltas.append({"function_call": {"name": call.name, "arguments": ""}})
            deltas += [{"function_call": {"arguments": piece}} for piece in pieces(call.arguments)]
            continue
        deltas.append(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            }
        )
        deltas += [
            {"tool_calls": [{"index": index, "function": {"arguments": piece}}]} for piece in pieces(call.arguments)
        ]
    return deltas


def json_problem(text: str, schema: dict[str, Any]) -> str | None:
    """Why text is not a JSON value valid against schema, or None when it is."""
    try:
        value = json.loads(text)
    except ValueError:
        return "not JSON"
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as error:
        return str(error.message)[:200]
    return None


def legacy_logprobs(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The legacy completions' shape: parallel lists of tokens, their logprobs and the top ones."""
    offsets, at = [], 0
    for item in items:
        offsets.append(at)
        at += len(item.get("token", ""))
    return {
        "tokens": [i.get("token", "") for i in items],
        "token_logprobs": [i.get("logprob", 0.0) for i in items],
        "top_logprobs": [
            {t.get("token", ""): t.get("logprob", 0.0) for t in i.get("top_logprobs") or []} for i in items
        ],
        "text_offset": offsets,
    }


def sse(payload: dict[str, Any], event: str | None = None) -> bytes:
    """One server-sent event; the Responses API names each event, chat completions do not."""
    return frame(json.dumps(payload, separators=(",", ":")).encode(), event)


DONE = frame(b"[DONE]")
