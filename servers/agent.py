"""One server for any agent: `python -m servers researcher|analyst|writer`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from agents.analyst import Analyst
from agents.base import Agent, LLMClients
from agents.llm import ProseStream, make_chat_model
from agents.researcher import Researcher
from agents.web_search import WebSearch
from agents.writer import Writer
from config import Settings
from orchestration.protocol import AgentName, TaskEvent, TaskRequest
from servers.base import add_task_route, check_http, create_server, internal_door

AGENTS: dict[AgentName, type[Agent]] = {"researcher": Researcher, "analyst": Analyst, "writer": Writer}


def build_agent(name: AgentName, settings: Settings, app: FastAPI) -> Agent:
    kind = AGENTS[name]
    llm = None
    if kind.uses_llm(settings):
        llm = LLMClients(
            name, make_chat_model(settings, name, app.state.http), ProseStream(settings, name, app.state.session)
        )
    if name == "researcher":
        return Researcher(settings, llm, WebSearch(settings, app.state.http))
    return kind(settings, llm)


def create_app(name: AgentName, settings: Settings) -> FastAPI:
    checks: dict[str, Callable[[FastAPI], Awaitable[None]]] = {}
    if AGENTS[name].uses_llm(settings):
        llm = settings.llm_for(name)

        async def llm_answers(app: FastAPI) -> None:
            await check_http(
                app, f"{llm.base_url}/models", {"authorization": f"Bearer {llm.api_key.get_secret_value()}"}
            )

        checks["llm"] = llm_answers

    async def start(app: FastAPI) -> None:
        app.state.agent = build_agent(name, settings, app)
        await app.state.agent.start()

    async def stop(app: FastAPI) -> None:
        await app.state.agent.stop()

    def run(app: FastAPI, task: TaskRequest) -> AsyncGenerator[TaskEvent, None]:
        agent: Agent = app.state.agent
        return agent.events(task)

    def llm_queue(app: FastAPI) -> dict[str, Any]:
        agent = app.state.agent
        if not agent.uses_llm(settings):
            return {"profile": settings.profile(name), "llm": "none: the rules and the calculator"}
        return {"llm_queue": agent.gate.report(), "profile": settings.profile(name)}

    app = create_server(
        name, settings, checks, on_start=start, on_stop=stop, doors=internal_door(settings, name), report_more=llm_queue
    )
    add_task_route(app, name, run)
    return app
