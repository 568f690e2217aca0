"""The gateway: the OpenAI-compatible front door, with conversations in Redis."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import struct
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from config import Settings
from orchestration import openai_types as wire
from orchestration.context import conversation_id_var, request_id_var
from orchestration.conversations import ConversationStore, as_jsonable
from orchestration.errors import APIError, BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized, render
from orchestration.protocol import (
    AGENT_NAMES,
    AgentCallError,
    EventType,
    Message,
    TaskClient,
    TaskEvent,
    TaskRequest,
    TaskResult,
)
from orchestration.tokens import count_message_tokens, count_tokens
from orchestration.turns import Turn, conversation_id_of, prepare_turn
from servers.base import check_http, create_server

log = logging.getLogger(__name__)
CREATED = int(time.time())


class Models:
    """`chorus` is the whole team; `chorus-<agent>` reaches one agent directly; aliases map onto them."""

    def __init__(self, settings: Settings):
        self.team = settings.model_name
        self.urls = {self.team: settings.agent_url("supervisor")}
        for agent in AGENT_NAMES:
            self.urls[f"{self.team}-{agent}"] = settings.agent_url(agent)
        self.aliases = settings.model_alias_map

    def ids(self) -> list[str]:
        return [*self.urls, *self.aliases]

    def url_for(self, model: str) -> str:
        target = self.aliases.get(model, model)
        if target not in self.urls:
            raise NotFound(f"The model '{model}' does not exist. Available: {', '.join(self.ids())}.",
                           param="model", code="model_not_found")
        return self.urls[target]

    def direct_agent(self, model: str) -> str | None:
        """The agent a `chorus-<agent>` model reaches; None for the whole team."""
        target = self.aliases.get(model, model)
        return target.removeprefix(f"{self.team}-") if target != self.team else None

    def card(self, model: str) -> dict:
        self.url_for(model)
        return {"id": model, "object": "model", "created": CREATED, "owned_by": "chorus"}


def create_app(settings: Settings) -> FastAPI:
    async def redis_answers(app: FastAPI) -> None:
        await app.state.store.ping()

    async def supervisor_answers(app: FastAPI) -> None:
        await check_http(app, f"{settings.agent_url('supervisor')}/health")

    async def start(app: FastAPI) -> None:
        app.state.store = ConversationStore.from_url(
            settings.redis_url, settings.conversation_ttl_seconds, settings.conversation_max_messages)
        app.state.tasks = TaskClient(app.state.http)
        app.state.models = Models(settings)

    async def stop(app: FastAPI) -> None:
        await app.state.store.close()

    app = create_server("gateway", settings, {"redis": redis_answers, "supervisor": supervisor_answers},
                        on_start=start, on_stop=stop)
    install_error_handlers(app)
    router = APIRouter(dependencies=[Depends(authorize), Depends(limit_body)])
    add_routes(router, settings)
    app.include_router(router, prefix="/v1")
    app.include_router(router)  # voice platforms call {base}/chat/completions
    return app


# --- errors, auth, limits ---------------------------------------------------------------------
def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def api_error(request: Request, error: APIError):
        return render(error, request_id_var.get())

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {}
        loc = [str(p) for p in first.get("loc", []) if p != "body"]
        param = ".".join(loc) or None
        message = f"Invalid value for '{param}': {first.get('msg')}" if param else str(first.get("msg"))
        if first.get("type") == "json_invalid":
            message, param = "The request body is not valid JSON.", None
        return render(BadRequest(message, param=param), request_id_var.get())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        kind = NotFound if error.status_code == 404 else BadRequest
        wrapped = kind(str(error.detail), code="not_found" if error.status_code == 404 else None)
        wrapped.status = error.status_code
        return render(wrapped, request_id_var.get())

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        log.exception("unhandled error")
        return render(APIError("The server had an error while processing your request."),
                      request_id_var.get())


async def authorize(request: Request) -> None:
    keys = request.app.state.settings.gateway_api_keys
    if not keys:
        return
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or key.strip() not in keys:
        raise Unauthorized("Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'.",
                           code="invalid_api_key")


async def limit_body(request: Request) -> None:
    limit = request.app.state.settings.max_request_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.", code="request_too_large")


# --- routes -----------------------------------------------------------------------------------
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
        return JSONResponse(
            {"id": conversation_id, "object": "conversation", "messages": as_jsonable(messages)},
            headers={"x-conversation-id": conversation_id})

    @router.delete("/conversations/{conversation_id}")
    async def delete_conversation(conversation_id: str, request: Request) -> dict:
        if not await request.app.state.store.delete(conversation_id):
            raise NotFound(f"No conversation '{conversation_id}'.", param="conversation_id",
                           code="conversation_not_found")
        return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}


class Exchange:
    """One request through the team: load history, run, relay, store the turn, answer."""

    def __init__(self, request: Request, body: wire.SamplingFields, conversation_id: str, chat: bool):
        self.request = request
        self.app = request.app
        self.settings: Settings = request.app.state.settings
        self.body = body
        self.chat = chat
        self.conversation_id = conversation_id
        self.started = time.perf_counter()
        self.id = wire.completion_id("chatcmpl" if chat else "cmpl")
        self.created = wire.now()
        conversation_id_var.set(conversation_id)

    @property
    def max_tokens(self) -> int | None:
        return getattr(self.body, "max_completion_tokens", None) or self.body.max_tokens

    async def respond(self, sent: list[Message]):
        url = self.app.state.models.url_for(self.body.model)
        store: ConversationStore = self.app.state.store
        stored = await store.load(self.conversation_id)
        # tokenizing the history (to trim it) and the prompt is CPU work: off the event loop
        turn = await asyncio.to_thread(prepare_turn, stored, sent, self.settings.max_context_tokens)
        task = TaskRequest(
            request_id=request_id_var.get(), conversation_id=self.conversation_id,
            instruction=turn.instruction, messages=turn.context,
            params=self.body.generation_params(self.max_tokens),
            deadline=time.time() + self.settings.task_deadline_seconds,
        )
        self.prompt_tokens = await asyncio.to_thread(
            count_message_tokens, [(m.role, m.content) for m in sent], self.body.model)
        upstream = self.app.state.tasks.stream(url, task)
        direct = self.app.state.models.direct_agent(self.body.model)
        opening, planned = await self._until_planned(upstream, direct)  # fails before the response starts
        events = _replay(opening, upstream)
        if self.body.stream:
            headers = {"x-conversation-id": self.conversation_id, "cache-control": "no-cache",
                       "x-accel-buffering": "no"}
            if planned:  # a stream's headers go out before the work: they name the planned team
                headers["x-agents-used"] = ",".join(planned)
            return StreamingResponse(self._stream(events, turn), media_type="text/event-stream",
                                     headers=headers)
        result = await self._collect(events)
        await self._store(turn, result)
        return self._response(result, await self._usage(result))

    async def _until_planned(
        self, events: AsyncIterator[TaskEvent], direct: str | None
    ) -> tuple[list[TaskEvent], list[str]]:
        """Read up to the supervisor's plan (a few ms in): the events so far, and the team it chose."""
        opening: list[TaskEvent] = []
        try:
            while True:
                event = await anext(events)
                opening.append(event)
                if direct:
                    return opening, [direct]
                if event.type is EventType.step_finished and event.data.name == "plan":
                    return opening, event.data.agents
                if event.type in (EventType.token, EventType.result, EventType.error):
                    return opening, []
        except (AgentCallError, StopAsyncIteration) as error:
            await events.aclose()
            raise ServiceUnavailable(f"The team is unavailable: {error}", code="team_unavailable") from error

    async def _collect(self, events: AsyncIterator[TaskEvent]) -> TaskResult:
        try:
            async for event in events:
                if event.type is EventType.result:
                    return event.data
                if event.type is EventType.error:
                    raise ServiceUnavailable(f"The team failed: {event.data.message}", code="team_failed")
        except AgentCallError as error:
            raise ServiceUnavailable(f"The team failed: {error}", code="team_failed") from error
        finally:
            await events.aclose()
        raise ServiceUnavailable("The team's answer ended without a result.", code="team_failed")

    async def _store(self, turn: Turn, result: TaskResult) -> None:
        if self.chat:
            answer = Message(role="assistant", content=result.output)
            await self.app.state.store.append_turn(self.conversation_id, [*turn.to_store, answer])

    def _text(self, output: str) -> str:
        if not self.chat and getattr(self.body, "echo", False):
            return self.body.prompt_text + output
        return output

    async def _usage(self, result: TaskResult) -> dict[str, int]:
        """What the client sent and received, counted with tiktoken (in a thread)."""
        completion = await asyncio.to_thread(count_tokens, result.output, self.body.model)
        return wire.usage_block(self.prompt_tokens, completion)

    def _response(self, result: TaskResult, usage: dict[str, int]) -> JSONResponse:
        seconds = time.perf_counter() - self.started
        text = self._text(result.output)
        metadata = wire.metadata_block(result, self.conversation_id, seconds)
        if self.chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                      "logprobs": None, "finish_reason": result.finish_reason}
        else:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": result.finish_reason}
        body = {
            "id": self.id, "object": "chat.completion" if self.chat else "text_completion",
            "created": self.created, "model": self.body.model,
            "choices": [choice], "usage": usage, "conversation_id": self.conversation_id,
            "metadata": metadata, "agent_trace": wire.agent_trace_block(result),
        }
        return JSONResponse(body, headers={"x-conversation-id": self.conversation_id,
                                           "x-agents-used": metadata["agents_used"]})

    # --- streaming --------------------------------------------------------------------------
    def _chunk(self, delta: dict | None, finish_reason: str | None = None, **extra) -> bytes:
        if self.chat:
            choice = {"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish_reason}
            kind = "chat.completion.chunk"
        else:
            choice = {"index": 0, "text": (delta or {}).get("content", ""), "logprobs": None,
                      "finish_reason": finish_reason}
            kind = "text_completion"
        chunk = {"id": self.id, "object": kind, "created": self.created, "model": self.body.model,
                 "choices": [choice], **extra}
        if self.include_usage and "usage" not in chunk:
            chunk["usage"] = None
        return sse(chunk)

    @property
    def include_usage(self) -> bool:
        return bool(self.body.stream_options and self.body.stream_options.include_usage)

    async def _stream(self, events: AsyncIterator[TaskEvent], turn: Turn):
        opening = {"role": "assistant", "content": ""} if self.chat else {"content": ""}
        yield self._chunk(opening, conversation_id=self.conversation_id,
                          metadata={"conversation_id": self.conversation_id})
        if not self.chat and getattr(self.body, "echo", False):
            yield self._chunk({"content": self.body.prompt_text})
        result: TaskResult | None = None
        try:
            async for event in events:
                if event.type is EventType.token and event.data.delta:
                    yield self._chunk({"content": event.data.delta})
                elif event.type is EventType.result:
                    result = event.data
                elif event.type is EventType.error:
                    raise AgentCallError(event.data.message)
            if result is None:
                raise AgentCallError("the team's stream ended without a result")
            await self._store(turn, result)
        except (AgentCallError, APIError) as error:
            failure = error if isinstance(error, APIError) else ServiceUnavailable(
                f"The team failed mid-answer: {error}", code="team_failed")
            log.warning("stream failed: %s", failure.message)
            yield sse(failure.body())
            yield b"data: [DONE]\n\n"
            return
        finally:
            await events.aclose()  # a client that hangs up stops the team's work too
        seconds = time.perf_counter() - self.started
        yield self._chunk(
            {}, result.finish_reason, conversation_id=self.conversation_id,
            metadata=wire.metadata_block(result, self.conversation_id, seconds),
            agent_trace=wire.agent_trace_block(result),
        )
        if self.include_usage:
            usage = await self._usage(result)
            chunk = {"id": self.id, "object": "chat.completion.chunk" if self.chat else "text_completion",
                     "created": self.created, "model": self.body.model,
                     "choices": [], "usage": usage}
            yield sse(chunk)
        yield b"data: [DONE]\n\n"


async def _replay(opening: list[TaskEvent], rest: AsyncIterator[TaskEvent]) -> AsyncIterator[TaskEvent]:
    """The events already read, then the rest; closing it closes the upstream call."""
    try:
        for event in opening:
            yield event
        async for event in rest:
            yield event
    finally:
        await rest.aclose()


def sse(payload: dict) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


# --- embeddings -------------------------------------------------------------------------------
async def forward_embeddings(body: wire.EmbeddingRequest, request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not settings.embeddings_base_url:
        raise BadRequest(
            "No embeddings endpoint is configured. Set EMBEDDINGS_BASE_URL (and EMBEDDINGS_MODEL) "
            "to an OpenAI-compatible embeddings server.", param="model", code="embeddings_not_configured")
    payload = body.model_dump(exclude_none=True) | {"encoding_format": "float"}
    if settings.embeddings_model:
        payload["model"] = settings.embeddings_model
    try:
        upstream = await request.app.state.http.post(
            f"{settings.embeddings_base_url}/embeddings", json=payload, timeout=60,
            headers={"authorization": f"Bearer {settings.embeddings_api_key.get_secret_value()}"})
    except Exception as error:
        raise ServiceUnavailable(f"The embeddings endpoint did not answer: {type(error).__name__}",
                                 code="embeddings_unavailable") from error
    if upstream.status_code != 200:
        raise ServiceUnavailable(f"The embeddings endpoint answered HTTP {upstream.status_code}.",
                                 code="embeddings_unavailable")
    data = upstream.json()
    data["model"] = body.model
    if body.encoding_format == "base64":
        for item in data.get("data", []):
            vector = item["embedding"]
            item["embedding"] = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return JSONResponse(data)
