"""The OpenAI-compatible routes, and the conversation routes."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from config import Settings
from orchestration.protocol import Message
from servers.gateway import wire
from servers.gateway.completions_output import CompletionsOutput
from servers.gateway.conversation_keys import ConversationKey, conversation_key, named_conversation, new_conversation_id
from servers.gateway.conversations import as_jsonable
from servers.gateway.embeddings import forward_embeddings
from servers.gateway.errors import NotFound
from servers.gateway.exchange import Exchange
from servers.gateway.models import Models
from servers.gateway.openai_params import refuse_unknown
from servers.gateway.response_store import ResponseStore
from servers.gateway.responses_output import ResponsesOutput
from servers.gateway.responses_wire import ResponsesRequest


def _deleted(found: bool, object_id: str, kind: str, missing: str) -> dict:
    if not found:
        raise NotFound(missing, param=f"{kind}_id", code=f"{kind}_not_found")
    return {"id": object_id, "object": f"{kind}.deleted", "deleted": True}


async def _stored_response(responses: ResponseStore, response_id: str, param: str, owner: str) -> tuple[dict, str]:
    found = await responses.load(response_id, owner)
    if found is None:
        raise NotFound(f"Response with id '{response_id}' not found.", param=param, code="response_not_found")
    return found


def _named_or_new(body, request: Request) -> ConversationKey:
    """Legacy completions and the Responses API do not resend a history to fingerprint."""
    named = named_conversation(body, request.headers)
    return ConversationKey(named or new_conversation_id(), named=bool(named))


def add_routes(router: APIRouter, settings: Settings) -> None:
    @router.get("/models")
    async def list_models(request: Request) -> dict:
        models: Models = request.app.state.models
        return {"object": "list", "data": [models.card(m) for m in models.ids()]}

    @router.get("/models/{model_id:path}")
    async def retrieve_model(model_id: str, request: Request) -> dict:
        return request.app.state.models.card(model_id)

    @router.post("/chat/completions")
    async def chat_completions(body: wire.ChatCompletionRequest, request: Request):
        refuse_unknown(body, "chat", settings.strict_params)
        body.refuse_unfinished()
        sent = [m.to_message(i) for i, m in enumerate(body.messages)]
        key = await conversation_key(request.app.state.store, request.state.owner, body, request.headers, sent)
        exchange = Exchange(request, body, key, CompletionsOutput.for_chat)
        return await exchange.respond([sent])

    @router.post("/completions")
    async def completions(body: wire.CompletionRequest, request: Request):
        refuse_unknown(body, "completions", settings.strict_params)
        body.refuse_unfinished()
        exchange = Exchange(request, body, _named_or_new(body, request), CompletionsOutput.for_text)
        return await exchange.respond([[Message(role="user", content=prompt)] for prompt in body.prompts])

    @router.post("/responses")
    async def create_response(body: ResponsesRequest, request: Request):
        refuse_unknown(body, "responses", settings.strict_params)
        body.refuse_unfinished()
        responses: ResponseStore = request.app.state.responses
        key = _named_or_new(body, request)
        if body.previous_response_id:  # it continues that response's conversation
            _, conversation_id = await _stored_response(
                responses, body.previous_response_id, "previous_response_id", request.state.owner
            )
            key = ConversationKey(conversation_id, named=True)
        chat = body.to_chat(await responses.resolve(body.items(), request.state.owner))
        chat.refuse_unfinished()
        sent = [m.to_message(i) for i, m in enumerate(chat.messages)]
        output = partial(ResponsesOutput, request=body, store=responses, previous_response_id=body.previous_response_id)
        return await Exchange(request, chat, key, output).respond([sent])

    @router.get("/responses/{response_id}")
    async def retrieve_response(response_id: str, request: Request) -> dict:
        response, _ = await _stored_response(
            request.app.state.responses, response_id, "response_id", request.state.owner
        )
        return response

    @router.delete("/responses/{response_id}")
    async def delete_response(response_id: str, request: Request) -> dict:
        found = await request.app.state.responses.delete(response_id, request.state.owner)
        return _deleted(found, response_id, "response", f"Response with id '{response_id}' not found.")

    @router.post("/embeddings")
    async def embeddings(body: wire.EmbeddingRequest, request: Request):
        refuse_unknown(body, "embeddings", settings.strict_params)
        return await forward_embeddings(body, request)

    @router.get("/conversations")
    async def list_conversations(
        request: Request, limit: int = Query(20, ge=1, le=100), before: int | None = Query(None, ge=0)
    ) -> dict:
        """The caller's conversations, most recently updated first; `before` (a previous page's
        `next_before`) pages back."""
        found = await request.app.state.store.recent(request.state.owner, limit + 1, before)
        page = found[:limit]
        return {
            "object": "list",
            "has_more": len(found) > limit,
            "next_before": page[-1].updated_ms if len(found) > limit else None,
            "data": [
                {
                    "id": c.id,
                    "object": "conversation",
                    "title": c.title,
                    "updated_at": c.updated_ms // 1000,
                    "message_count": c.messages,
                }
                for c in page
            ],
        }

    @router.get("/conversations/{conversation_id}")
    async def get_conversation(conversation_id: str, request: Request) -> JSONResponse:
        messages = await request.app.state.store.load(conversation_id, request.state.owner)
        if not messages:
            raise NotFound(
                f"No conversation '{conversation_id}'.", param="conversation_id", code="conversation_not_found"
            )
        details = await request.app.state.store.details(conversation_id)
        return JSONResponse(
            {"id": conversation_id, "object": "conversation", "messages": as_jsonable(messages), **details},
            headers={"x-conversation-id": conversation_id},
        )

    @router.delete("/conversations/{conversation_id}")
    async def delete_conversation(conversation_id: str, request: Request) -> dict:
        found = await request.app.state.store.delete(conversation_id, request.state.owner)
        return _deleted(found, conversation_id, "conversation", f"No conversation '{conversation_id}'.")
