"""The supervisor process: `POST /v1/tasks` runs the team graph for one request."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from agents.llm import make_chat_model
from config import Settings
from orchestration.planner import llm_planning_enabled
from orchestration.protocol import TaskClient, TaskRequest
from orchestration.team import Team
from servers.base import add_task_route, check_http, create_server, internal_door

log = logging.getLogger("chorus.supervisor")


def create_app(settings: Settings) -> FastAPI:
    roster = settings.team()  # a bad team file stops the supervisor before it serves (make up checks it first)

    def agent_check(url: str):
        async def check(app: FastAPI) -> None:
            await check_http(app, f"{url}/health")

        return check

    async def start(app: FastAPI) -> None:
        planner_llm = (
            make_chat_model(settings, "supervisor", app.state.http) if llm_planning_enabled(settings) else None
        )
        app.state.team = Team(
            settings,
            TaskClient(app.state.session, attempts=2, internal_token=settings.internal_token.get_secret_value()),
            planner_llm,
            roster,
        )
        for member in roster.members:  # a member that is down at start-up: said, and its circuit open
            if member.protocol == "openai":
                try:
                    await check_http(app, f"{member.url.rstrip('/')}/models")
                except Exception as error:
                    log.warning(
                        "the member %s is unreachable at start-up (%s): its circuit is open", member.name, error
                    )
                    app.state.team.circuits[member.name].trip()

    def run(app: FastAPI, task: TaskRequest):
        return app.state.team.events(task)

    def run_whole(app: FastAPI, task: TaskRequest):
        return app.state.team.result(task)

    def circuits(app: FastAPI) -> dict:
        team = getattr(app.state, "team", None)
        planner = "llm" if llm_planning_enabled(settings) else "rules"
        return (
            {
                "circuits": team.circuits.report(),
                "profile": settings.profile("supervisor"),
                "planner": planner,
                "team": {m.name: m.protocol for m in roster.members},
            }
            if team
            else {}
        )

    app = create_server(
        "supervisor",
        settings,
        {m.name: agent_check(m.url or settings.agent_url(m.name)) for m in roster.members if m.protocol == "chorus"},
        on_start=start,
        doors=internal_door(settings, "supervisor"),
        report_more=circuits,
    )
    add_task_route(app, "supervisor", run, run_whole)
    return app
