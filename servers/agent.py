"""One server for any agent: `python -m servers researcher|analyst|writer`."""

from __future__ import annotations

from fastapi import FastAPI

from agents.analyst import Analyst
from agents.base import Agent
from agents.llm import ProseStream, make_chat_model
from agents.researcher import Researcher
from agents.web_search import WebSearch
from agents.writer import Writer
from config import Settings
from orchestration.protocol import AgentName, TaskRequest
from servers.base import add_task_route, check_http, create_server, internal_door


def build_agent(name: AgentName, settings: Settings, app: FastAPI) -> Agent:
    llm = make_chat_model(settings, name, app.state.http)
    prose = ProseStream(settings, name, app.state.session)
    if name == "researcher":
        return Researcher(settings, llm, prose, WebSearch(settings, app.state.http))
    if name == "analyst":
        return Analyst(settings, llm, prose)
    return Writer(settings, llm, prose)


def create_app(name: AgentName, settings: Settings) -> FastAPI:
    llm = settings.llm_for(name)

    async def llm_answers(app: FastAPI) -> None:
        await check_http(app, f"{llm.base_url}/models",
                         {"authorization": f"Bearer {llm.api_key.get_secret_value()}"})

    async def start(app: FastAPI) -> None:
        app.state.agent = build_agent(name, settings, app)
        await app.state.agent.start()

    async def stop(app: FastAPI) -> None:
        await app.state.agent.stop()

    def run(app: FastAPI, task: TaskRequest):
        return app.state.agent.events(task)

    def llm_queue(app: FastAPI) -> dict:
        return {"llm_queue": app.state.agent.gate.report()}

    app = create_server(name, settings, {"llm": llm_answers}, on_start=start, on_stop=stop,
                        doors=internal_door(settings, name), report_more=llm_queue)
    add_task_route(app, name, run)
    return app
