"""One server for any agent: `python -m servers researcher|analyst|writer`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from agents.analyst import Analyst
from agents.base import Agent
from agents.llm import make_chat_model
from agents.researcher import Researcher
from agents.web_search import WebSearch
from agents.writer import Writer
from config import Settings
from orchestration.context import conversation_id_var, request_id_var
from orchestration.protocol import TASKS_PATH, AgentName, ErrorInfo, EventType, TaskEvent, TaskRequest
from servers.base import check_http, create_server

log = logging.getLogger(__name__)


def build_agent(name: AgentName, settings: Settings, app: FastAPI) -> Agent:
    llm = make_chat_model(settings, name, app.state.http)
    if name == "researcher":
        return Researcher(settings, llm, WebSearch(settings, app.state.http))
    if name == "analyst":
        return Analyst(settings, llm)
    return Writer(settings, llm)


def create_app(name: AgentName, settings: Settings) -> FastAPI:
    llm = settings.llm_for(name)

    async def llm_answers(app: FastAPI) -> None:
        await check_http(app, f"{llm.base_url}/models",
                         {"authorization": f"Bearer {llm.api_key.get_secret_value()}"})

    async def start(app: FastAPI) -> None:
        app.state.agent = build_agent(name, settings, app)
        await app.state.agent.start()

    app = create_server(name, settings, {"llm": llm_answers}, on_start=start)

    @app.post(TASKS_PATH)
    async def run_task(task: TaskRequest, request: Request):
        agent: Agent = request.app.state.agent
        request_id_var.set(task.request_id)  # the task's id is the request's, through every hop
        conversation_id_var.set(task.conversation_id or "-")
        log.info("task %s: %s", task.task_id, task.instruction[:80].replace("\n", " "))
        if task.stream:
            return EventSourceResponse(_sse(agent, task), ping=15)
        async for event in agent.events(task):
            if event.type is EventType.result:
                log.info("task %s done in %.0f ms", task.task_id, event.data.duration_ms)
                return event.data
        return JSONResponse({"message": "the agent produced no result"}, status_code=500)

    return app


async def _sse(agent: Agent, task: TaskRequest):
    """The agent's events as SSE; a failure mid-stream becomes an error event, never a hang."""
    try:
        async for event in agent.events(task):
            yield ServerSentEvent(**event.to_sse())
    except Exception as error:  # reported to the caller as a typed event, then logged
        log.exception("task %s failed", task.task_id)
        info = ErrorInfo(message=f"{type(error).__name__}: {error}", agent=agent.name)
        yield ServerSentEvent(**TaskEvent(type=EventType.error, data=info).to_sse())
