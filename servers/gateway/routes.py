"""The OpenAI-compatible routes, and the conversation routes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from config import Settings
from orchestration.conversations import as_jsonable
from orchestration.protocol import Message
from servers.gateway import wire
from servers.gateway.embeddings import forward_embeddings
from servers.gateway.errors import NotFound
from servers.gateway.exchange import Exchange
from servers.gateway.models import Models
from servers.gateway.turns import conversation_id_of


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
        body.refuse_unfinished()
        sent = [m.to_message(i) for i, m in enumerate(body.messages)]
        conversation_id = conversation_id_of(
            body.conversation_id, body.metadata, request.headers.get("x-conversation-id"))
        exchange = Exchange(request, body, conversation_id, chat=True)
        return await exchange.respond(sent)

    @router.post("/completions")
    async def completions(body: wire.CompletionRequest, request: Request):
        body.refuse_unfinished()
        conversation_id = conversation_id_of(
            body.conversation_id, body.metadata, request.headers.get("x-conversation-id"))
        exchange = Exchange(request, body, conversation_id, chat=False)
        return await exchange.respond([Message(role="user", content=body.prompt_text)])

    @router.post("/embeddings")
    async def embeddings(body: wire.EmbeddingRequest, request: Request):
        return await forward_embeddings(body, request)

    @router.get("/conversations/{conversation_id}")
    async def get_conversation(conversation_id: str, request: Request) -> JSONResponse:
        messages = await request.app.state.store.load(conversation_id)
        if not messages:
            raise NotFound(f"No conversation '{conversation_id}'.", param="conversation_id",
                           code="conversation_not_found")
        details = await request.app.state.store.details(conversation_id)
        return JSONResponse(
            {"id": conversation_id, "object": "conversation", "messages": as_jsonable(messages), **details},
            headers={"x-conversation-id": conversation_id})

    @router.delete("/conversations/{conversation_id}")
    async def delete_conversation(conversation_id: str, request: Request) -> dict:
        if not await request.app.state.store.delete(conversation_id):
            raise NotFound(f"No conversation '{conversation_id}'.", param="conversation_id",
                           code="conversation_not_found")
        return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}
