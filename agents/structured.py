"""The writer's structured replies: a call of one of the client's functions, or JSON in the client's format.

Both are generated with the JSON schema handed to the LLM endpoint as `response_format`: llama.cpp
turns it into a grammar (constrained decoding), so arguments always parse and match the function's
parameters (the basic profile). A capable model gets the tools natively, in the writer's stream. Every reply is validated with a
real JSON Schema validator; a reply that fails is asked for once more, then refused.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from langchain_core.messages import BaseMessage, SystemMessage
from langchain_openai import ChatOpenAI

from agents.llm import as_openai_message
from orchestration.protocol import Message, TaskRequest, ToolCall

ATTEMPTS = 3  # two retries, warmer: the small model sometimes loops past max_tokens twice
log = logging.getLogger(__name__)
ARGUMENT_TOKENS = 256
MAX_STRING_CHARS = 120  # a looping small model fills a string to the bound: keep the whole reply short
RETRY_TEMPERATURE = 0.7
RETRY_FREQUENCY_PENALTY = 0.5  # the retry also discourages the loop that ran the first one long
FLAT_OBJECT = {  # json_object for the embedded model: an object of plain values, bounded
    "type": "object",
    "maxProperties": 12,
    "additionalProperties": {
        "anyOf": [
            {"type": "string", "maxLength": MAX_STRING_CHARS},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "null"},
        ]
    },
}
WORD = re.compile(r"[a-z]{3,}")
IGNORED_WORDS = {
    "the",
    "and",
    "for",
    "with",
    "get",
    "set",
    "this",
    "that",
    "from",
    "what",
    "tool",
    "function",
    "call",
    "use",
    "given",
    "return",
    "returns",
    "value",
    "values",
    "one",
    "another",
    "two",
    "current",
    "user",
    "any",
    "all",
}
# words a request uses for what a function's own words name (measured: `make eval`, tool choice)
RELATED_WORDS = {
    "weather": {"rain", "snow", "hot", "cold", "warm", "temperature", "sunny", "forecast", "wind"},
    "time": {"clock", "morning", "evening", "hour", "night"},
    "currency": {"dollar", "euro", "yen", "pound", "franc", "money", "exchange"},
    "event": {"schedule", "appointment", "meeting", "calendar", "remind"},
    "email": {"mail", "message"},
    "flight": {"fly", "plane", "airport"},
}


class StructuredOutputError(Exception):
    """The LLM did not produce valid JSON for the request's format, twice."""


@dataclass
class StructuredReply:
    content: str = ""  # JSON text, for a response_format
    tool_calls: list[ToolCall] = field(default_factory=list)
    detail: str = ""


def functions(task: TaskRequest) -> dict[str, dict[str, Any]]:
    """The client's functions by name: {"description", "parameters"}."""
    return {tool["function"]["name"]: tool["function"] for tool in task.tools if tool.get("type") == "function"}


def parameters_schema(function: dict[str, Any]) -> dict[str, Any]:
    return function.get("parameters") or {"type": "object", "properties": {}}


def choose_function(task: TaskRequest) -> tuple[str | None, str]:
    """Which function to call, or None to answer in words; and why.

    A named tool_choice or `required` always calls. Under `auto` the rules decide: call the
    function whose name and description share the most words with the request, among those not yet
    called this turn (so a request that needs two tools calls both, one step at a time); when none
    is left that matches, answer with the results (the embedded model decides poorly: see `make eval`).
    """
    available = functions(task)
    choice = task.tool_choice or "auto"
    if not available or choice == "none":
        return None, "no function offered"
    if isinstance(choice, dict):
        return choice["function"]["name"], "tool_choice names it"
    best, overlap = _best_match(task.instruction, available)
    if choice == "required":
        return best, "tool_choice is required"
    called = _called_this_turn(task.messages)
    left = {name: f for name, f in available.items() if name not in called}
    if not left:
        return None, "every function has run: answer with the results"
    best, overlap = _best_match(task.instruction, left)
    if overlap:
        return best, f"the request matches {best}"
    return None, "no function left matches the request" if called else "no function matches the request"


def _called_this_turn(messages: list[Message]) -> set[str]:
    """The functions whose results came back in this turn (since the last user message or answer)."""
    answered = {m.tool_call_id for m in messages if m.role == "tool"}
    called: set[str] = set()
    for message in reversed(messages):
        if message.role == "user" or (message.role == "assistant" and not message.tool_calls):
            break
        called |= {c.name for c in message.tool_calls or [] if c.id in answered}
    return called


def _best_match(request: str, available: dict[str, dict[str, Any]]) -> tuple[str, int]:
    wanted = _words(request)
    scored = []
    for name, function in available.items():
        words = _function_words(name.replace("_", " ") + " " + function.get("description", ""))
        properties = " ".join(parameters_schema(function).get("properties", {}))
        scored.append((len(wanted & (words | _words(properties.replace("_", " ")))), name))
    overlap, name = max(scored, key=lambda item: item[0])
    return name, overlap


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in WORD.findall(text.lower()) if w not in IGNORED_WORDS}


def _function_words(text: str) -> set[str]:
    """A function's own words, and the words a request uses for them."""
    words = _words(text)
    return words.union(*(RELATED_WORDS.get(w, set()) for w in words))


async def call_function(llm: ChatOpenAI, task: TaskRequest, name: str, messages: list[BaseMessage]) -> StructuredReply:
    """The chosen function's arguments by constrained decoding (the basic profile: the rules chose it)."""
    function = functions(task)[name]
    schema = parameters_schema(function)
    prompt = SystemMessage(
        f"Call the function `{name}` ({function.get('description', 'no description')}). "
        "Reply with its arguments as JSON, taking the values from the conversation."
    )
    arguments = await constrained_json(
        llm, task, [*messages, prompt], json_schema_format("arguments", _bounded(schema)), schema, ARGUMENT_TOKENS
    )
    return StructuredReply(
        tool_calls=[ToolCall(name=name, arguments=arguments)], detail=f"called {name} (constrained decoding)"
    )


def invalid_call(task: TaskRequest, call: ToolCall) -> str:
    """Why a call the model made cannot go to the client ("" when it can): validated against the
    function's schema before it leaves, as a constrained one would be."""
    function = functions(task).get(call.name)
    if function is None:
        return f"there is no function {call.name}"
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        return f"the arguments of {call.name} are not JSON"
    try:
        jsonschema.validate(arguments, parameters_schema(function))
    except jsonschema.ValidationError as error:
        return f"the arguments of {call.name} do not match its parameters: {error.message}"
    return ""


async def structured_content(
    llm: ChatOpenAI, flat: bool, task: TaskRequest, messages: list[BaseMessage], max_tokens: int
) -> StructuredReply:
    """JSON for response_format: any object for json_object, the schema for json_schema."""
    fmt = task.response_format or {}
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema", {})
        schema = spec.get("schema") or {"type": "object"}
        request_format = {"type": "json_schema", "json_schema": {**spec, "schema": _bounded(schema)}}
    elif flat:  # the small model nests objects without end: it is given a flat object to fill
        schema = {"type": "object"}
        request_format = json_schema_format("object", FLAT_OBJECT)
    else:
        schema, request_format = {"type": "object"}, {"type": "json_object"}
    content = await constrained_json(llm, task, messages, request_format, schema, max_tokens)
    return StructuredReply(content=content, detail=f"{fmt.get('type')} (constrained decoding)")


def json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


async def constrained_json(
    llm: ChatOpenAI,
    task: TaskRequest,
    messages: list[BaseMessage],
    request_format: dict[str, Any],
    schema: dict[str, Any],
    max_tokens: int,
) -> str:
    """The LLM's JSON under the format, validated against the schema; asked up to ATTEMPTS times
    (warmer after the first, since the same greedy decoding would fail the same way)."""
    payload = [as_openai_message(m) for m in messages]
    params = task.params.llm_kwargs()
    temperature = params.get("temperature", llm.temperature or 0)
    problem = "no reply"
    for attempt in range(ATTEMPTS):
        extra = {"seed": params["seed"]} if "seed" in params else {}
        reply = await llm.root_async_client.chat.completions.create(
            model=llm.model_name,
            messages=payload,
            response_format=request_format,
            max_tokens=max_tokens,
            temperature=temperature if attempt == 0 else max(temperature, RETRY_TEMPERATURE),
            **extra,
            **({"frequency_penalty": RETRY_FREQUENCY_PENALTY} if attempt else {}),
        )
        text = reply.choices[0].message.content or ""
        try:
            value = json.loads(text)
        except ValueError:
            cut = reply.choices[0].finish_reason == "length"
            problem = "the reply ran past max_tokens" if cut else "the reply was not JSON"
            log.info("structured reply rejected (%s)", problem)
            log.debug("the rejected reply: %r", text[:200])  # model output quotes the user: debug only
            continue
        if _valid(value, schema):
            return json.dumps(value, ensure_ascii=False)
        problem = "the reply did not match the schema"
    raise StructuredOutputError(problem)


PORTABLE_LEAVES_OUT = {"maxLength", "minLength", "maxItems", "minItems", "pattern", "format", "maximum", "minimum"}


def portable(schema: Any) -> Any:
    """The schema as a capable endpoint's strict structured output takes it: hosted APIs refuse length and
    range keywords in strict mode, so they are left out here and checked on the reply instead."""
    if isinstance(schema, list):
        return [portable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {key: portable(value) for key, value in schema.items() if key not in PORTABLE_LEAVES_OUT}


def _bounded(schema: Any) -> Any:
    """The schema for decoding: strings without a maxLength get one, so a small model that loops
    inside a string is made to close it. Anything valid under it is valid under the client's."""
    if isinstance(schema, list):
        return [_bounded(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    bounded = {key: _bounded(value) for key, value in schema.items()}
    if schema.get("type") == "string" and "maxLength" not in schema and "enum" not in schema:
        bounded["maxLength"] = MAX_STRING_CHARS
    return bounded


def _valid(value: Any, schema: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError:
        return False
    return True
