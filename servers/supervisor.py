"""The supervisor process: `POST /v1/tasks` runs the team graph for one request."""

from __future__ import annotations

from fastapi import FastAPI

from agents.llm import make_chat_model
from config import Settings
from orchestration.planner import llm_planning_enabled
from orchestration.protocol import AGENT_NAMES, TaskClient, TaskRequest
from orchestration.team import Team
from servers.base import add_task_route, check_http, create_server, internal_door


def create_app(settings: Settings) -> FastAPI:
    def agent_check(name: str):
        async def check(app: FastAPI) -> None:
            await check_http(app, f"{settings.agent_url(name)}/health")

        return check

    async def start(app: FastAPI) -> None:
        planner_llm = (
            make_chat_model(settings, "supervisor", app.state.http) if llm_planning_enabled(settings) else None
        )
        app.state.team = Team(
            settings,
            TaskClient(app.state.session, attempts=2, internal_token=settings.internal_token.get_secret_value()),
            planner_llm,
        )

    def run(app: FastAPI, task: TaskRequest):
        return app.state.team.events(task)

    def run_whole(app: FastAPI, task: TaskRequest):
        return app.state.team.result(task)

    def circuits(app: FastAPI) -> dict:
        team = getattr(app.state, "team", None)
        planner = "llm" if llm_planning_enabled(settings) else "rules"
        return (
            {"circuits": team.circuits.report(), "profile": settings.profile("supervisor"), "planner": planner}
            if team
            else {}
        )

    app = create_server(
        "supervisor",
        settings,
        {n: agent_check(n) for n in AGENT_NAMES},
        on_start=start,
        doors=internal_door(settings, "supervisor"),
        report_more=circuits,
    )
    add_task_route(app, "supervisor", run, run_whole)
    return app
