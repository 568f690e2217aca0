"""The request parameters OpenAI's API defines, per endpoint, from its published OpenAPI spec.

A parameter the API does not define is refused with a 400 that names it, as OpenAI refuses it, so a
typo ("max_token") is not silently ignored. Parameters OpenAI defines but Chorus does not model
("store", "service_tier"...) are accepted: SDKs send them, and each that would change an answer is
refused where it is served (`refuse_unfinished`). Fields that repeat the request's `metadata` at the
top level are accepted too, as Vapi sends them (`metadataSendMode: destructured`). STRICT_PARAMS=false
accepts anything, for clients that send their own fields.
"""

from __future__ import annotations

from pydantic import BaseModel

from servers.gateway.errors import BadRequest

# Chorus's own fields, accepted on every endpoint: the conversation to continue and the progress lines.
CHORUS_PARAMS = frozenset({"conversation_id", "chorus_progress"})

# CreateChatCompletionRequest, CreateCompletionRequest, CreateResponse and CreateEmbeddingRequest in
# OpenAI's spec (tests/unit/test_openai_params.py checks these against it).
OPENAI_PARAMS: dict[str, frozenset[str]] = {
    "chat": frozenset(
        {
            "audio",
            "frequency_penalty",
            "function_call",
            "functions",
            "logit_bias",
            "logprobs",
            "max_completion_tokens",
            "max_tokens",
            "messages",
            "metadata",
            "modalities",
            "model",
            "moderation",
            "n",
            "parallel_tool_calls",
            "prediction",
            "presence_penalty",
            "prompt_cache_key",
            "prompt_cache_options",
            "prompt_cache_retention",
            "reasoning_effort",
            "response_format",
            "safety_identifier",
            "seed",
            "service_tier",
            "stop",
            "store",
            "stream",
            "stream_options",
            "temperature",
            "tool_choice",
            "tools",
            "top_logprobs",
            "top_p",
            "user",
            "verbosity",
            "web_search_options",
        }
    ),
    "completions": frozenset(
        {
            "best_of",
            "echo",
            "frequency_penalty",
            "logit_bias",
            "logprobs",
            "max_tokens",
            "model",
            "n",
            "presence_penalty",
            "prompt",
            "seed",
            "stop",
            "stream",
            "stream_options",
            "suffix",
            "temperature",
            "top_p",
            "user",
        }
    ),
    "responses": frozenset(
        {
            "background",
            "context_management",
            "conversation",
            "include",
            "input",
            "instructions",
            "max_output_tokens",
            "max_tool_calls",
            "metadata",
            "model",
            "moderation",
            "parallel_tool_calls",
            "previous_response_id",
            "prompt",
            "prompt_cache_key",
            "prompt_cache_options",
            "prompt_cache_retention",
            "reasoning",
            "safety_identifier",
            "service_tier",
            "store",
            "stream",
            "stream_options",
            "temperature",
            "text",
            "tool_choice",
            "tools",
            "top_logprobs",
            "top_p",
            "truncation",
            "user",
        }
    ),
    "embeddings": frozenset({"dimensions", "encoding_format", "input", "model", "user"}),
}


def refuse_unknown(body: BaseModel, api: str, strict: bool) -> None:
    """A 400 naming the first parameter that neither OpenAI's API nor Chorus defines."""
    if not strict:
        return
    metadata = getattr(body, "metadata", None)
    repeated = set(metadata) if isinstance(metadata, dict) else set()  # Vapi's metadataSendMode: destructured
    unknown = sorted(set(body.model_extra or {}) - OPENAI_PARAMS[api] - CHORUS_PARAMS - repeated)
    if unknown:
        raise BadRequest(
            f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0], code="unknown_parameter"
        )
