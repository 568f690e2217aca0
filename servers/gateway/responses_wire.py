"""The Responses API's request, read into the chat request the team already serves.

Input items become chat messages (a `function_call` joins the assistant message before it, a
`function_call_output` is a tool message); `text.format` is the response format; function tools
are the chat tools. What Chorus cannot do (hosted tools, background runs, stored prompts) is
refused with a 400, never ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from servers.gateway import wire
from servers.gateway.errors import BadRequest

LOGPROBS_INCLUDE = "message.output_text.logprobs"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


def _text(content: str | list[ContentPart], param: str) -> str:
    if isinstance(content, str):
        return content
    for part in content:
        if part.type not in ("input_text", "output_text", "text") or part.text is None:
            raise BadRequest(f"Content of type '{part.type}' is not supported; send text.", param=param)
    return "".join(part.text or "" for part in content)


class MessageItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[ContentPart]
    id: str | None = None


class FunctionCallItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None


class FunctionCallOutputItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[ContentPart]
    id: str | None = None


class ItemReference(BaseModel):
    type: Literal["item_reference"]
    id: str


def _item_type(item: Any) -> str | None:
    """A message may leave out its type."""
    if isinstance(item, dict):
        return item.get("type", "message" if "role" in item else None)
    return getattr(item, "type", None)


InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[ItemReference, Tag("item_reference")],
    Discriminator(_item_type),
]
ResolvedItem = MessageItem | FunctionCallItem | FunctionCallOutputItem


class FunctionTool(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["function"]
    name: str = Field(pattern=wire.NAME_PATTERN)
    description: str | None = None
    parameters: wire.JSONSchema | None = None
    strict: bool | None = None


class NamedFunctionChoice(BaseModel):
    type: Literal["function"]
    name: str


class TextFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = Field(None, pattern=wire.NAME_PATTERN)
    schema_: wire.JSONSchema | None = Field(None, alias="schema")
    description: str | None = None
    strict: bool | None = None


class TextConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ConversationRef(BaseModel):
    id: str = Field(min_length=1, max_length=200)


class ResponsesRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # unknown fields are ignored, not rejected
    model: str
    input: str | Annotated[list[InputItem], Field(min_length=1)]
    instructions: str | None = None
    previous_response_id: str | None = None
    conversation: Annotated[str, Field(min_length=1, max_length=200)] | ConversationRef | None = None
    store: bool | None = True
    stream: bool | None = False
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    tools: list[FunctionTool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedFunctionChoice | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    include: list[str] | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    metadata: Annotated[dict[str, str], Field(max_length=16)] | None = None
    user: str | None = None
    background: bool | None = None
    prompt: dict[str, Any] | None = None

    def refuse_unfinished(self) -> None:
        if self.background:
            raise BadRequest(
                "Background responses are not supported; send background: false.",
                param="background",
                code="unsupported_parameter",
            )
        if self.prompt:
            raise BadRequest(
                "Stored prompt templates are not supported; send input and instructions.",
                param="prompt",
                code="unsupported_parameter",
            )
        if self.previous_response_id and self.conversation:
            raise BadRequest("Send previous_response_id or conversation, not both.", param="conversation")

    @property
    def conversation_id(self) -> str | None:
        return self.conversation.id if isinstance(self.conversation, ConversationRef) else self.conversation

    @property
    def wants_logprobs(self) -> bool:
        return LOGPROBS_INCLUDE in (self.include or [])

    def items(self) -> list[InputItem]:
        if isinstance(self.input, str):
            return [MessageItem(role="user", content=self.input)]
        return list(self.input)

    def tool_choice_value(self) -> str | dict[str, Any]:
        choice = self.tool_choice or "auto"
        return choice.model_dump() if isinstance(choice, NamedFunctionChoice) else choice

    def to_chat(self, items: list[ResolvedItem]) -> wire.ChatCompletionRequest:
        """The same request as a chat completion, for the team."""
        messages = [{"role": "system", "content": self.instructions}] if self.instructions else []
        messages += chat_messages(items)
        fmt = self.text.format if self.text else None
        choice = self.tool_choice
        try:
            return self._chat(messages, fmt, choice)
        except ValidationError as error:
            first = error.errors()[0]
            raise BadRequest(f"Invalid request: {first['msg']}", param=".".join(map(str, first["loc"]))) from None

    def _chat(
        self, messages: list[dict[str, Any]], fmt: TextFormat | None, choice: str | NamedFunctionChoice | None
    ) -> wire.ChatCompletionRequest:
        return wire.ChatCompletionRequest(
            model=self.model,
            messages=messages,
            stream=self.stream,
            max_completion_tokens=self.max_output_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            user=self.user,
            metadata=self.metadata,
            parallel_tool_calls=self.parallel_tool_calls,
            logprobs=self.wants_logprobs or None,
            top_logprobs=self.top_logprobs if self.wants_logprobs else None,
            tools=[
                {"type": "function", "function": t.model_dump(exclude={"type"}, exclude_none=True)}
                for t in self.tools or []
            ]
            or None,
            tool_choice={"type": "function", "function": {"name": choice.name}}
            if isinstance(choice, NamedFunctionChoice)
            else choice,
            response_format=_response_format(fmt),
        )


def _response_format(fmt: TextFormat | None) -> dict[str, Any] | None:
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "json_object"}
    if fmt.schema_ is None or not fmt.name:
        raise BadRequest("text.format of type json_schema needs a name and a schema.", param="text.format")
    return {
        "type": "json_schema",
        "json_schema": {"name": fmt.name, "schema": fmt.schema_, "strict": fmt.strict, "description": fmt.description},
    }


def chat_messages(items: list[ResolvedItem]) -> list[dict[str, Any]]:
    """Input items as chat messages: consecutive calls join the assistant message before them."""
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if isinstance(item, MessageItem):
            messages.append({"role": item.role, "content": _text(item.content, f"input.{index}.content")})
        elif isinstance(item, FunctionCallItem):
            call = {
                "id": item.call_id,
                "type": "function",
                "function": {"name": item.name, "arguments": item.arguments},
            }
            last = messages[-1] if messages else None
            if last and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
        else:
            messages.append(
                {"role": "tool", "tool_call_id": item.call_id, "content": _text(item.output, f"input.{index}.output")}
            )
    return messages
