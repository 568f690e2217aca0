"""The supervisor process: `POST /v1/tasks` runs the team graph for one request."""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from agents.llm import make_chat_model
from config import Settings
from orchestration.context import conversation_id_var, request_id_var
from orchestration.planner import llm_planning_enabled
from orchestration.protocol import AGENT_NAMES, TASKS_PATH, ErrorInfo, EventType, TaskClient, TaskEvent, TaskRequest
from orchestration.team import Team
from servers.base import check_http, create_server

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    def agent_check(name: str):
        async def check(app: FastAPI) -> None:
            await check_http(app, f"{settings.agent_url(name)}/health")
        return check

    async def start(app: FastAPI) -> None:
        planner_llm = (make_chat_model(settings, "supervisor", app.state.http)
                       if llm_planning_enabled(settings) else None)
        app.state.team = Team(settings, TaskClient(app.state.http, attempts=2), planner_llm)

    app = create_server("supervisor", settings, {n: agent_check(n) for n in AGENT_NAMES}, on_start=start)

    @app.post(TASKS_PATH)
    async def run_task(task: TaskRequest, request: Request):
        team: Team = request.app.state.team
        request_id_var.set(task.request_id)  # the task's id is the request's, through every hop
        conversation_id_var.set(task.conversation_id or "-")
        log.info("task %s: %s", task.task_id, task.instruction[:80].replace("\n", " "))
        if task.stream:
            return EventSourceResponse(_sse(team, task), ping=15)
        started = time.perf_counter()
        async for event in team.events(task):
            if event.type is EventType.result:
                return _finish(event, started).data
        raise RuntimeError("the team produced no result")

    return app


def _finish(event: TaskEvent, started: float) -> TaskEvent:
    event.data.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    log.info("task %s done in %.0f ms, agents %s", event.data.task_id, event.data.duration_ms,
             ",".join(event.data.agents_used))
    return event


async def _sse(team: Team, task: TaskRequest):
    started = time.perf_counter()
    try:
        async for event in team.events(task):
            if event.type is EventType.result:
                event = _finish(event, started)
            yield ServerSentEvent(**event.to_sse())
    except Exception as error:
        log.exception("task %s failed", task.task_id)
        info = ErrorInfo(message=f"{type(error).__name__}: {error}", agent="supervisor")
        yield ServerSentEvent(**TaskEvent(type=EventType.error, data=info).to_sse())
