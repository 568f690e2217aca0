"""Fake agent servers for tests of the supervisor's logic: real HTTP, scripted behaviour."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse

from orchestration.protocol import EventType, Source, TaskEvent, TaskRequest, TaskResult, token


@dataclass
class FakeAgent:
    name: str
    delay: float = 0.0
    output: str = "done"
    data: dict = field(default_factory=dict)
    fail_with: int | None = None  # an HTTP status to answer instead of a result
    fail_type: str = "agent_error"  # the protocol's error type of that answer (llm_unavailable, ...)
    sources: list[Source] = field(default_factory=list)
    calls: list[TaskRequest] = field(default_factory=list)
    timeline: list[tuple[str, str]] | None = None  # shared between agents: ("start"|"end", name)
    meet: threading.Barrier | None = None  # shared between agents: each waits there for the others

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/tasks")
        async def run(task: TaskRequest):
            self.calls.append(task)
            if self.timeline is not None:
                self.timeline.append(("start", self.name))
            await asyncio.sleep(self.delay)
            if self.meet:  # a run that waited in vain (the others never came) breaks the barrier
                await asyncio.to_thread(self.meet.wait, 20)
            if self.timeline is not None:
                self.timeline.append(("end", self.name))
            if self.fail_with:
                return JSONResponse(
                    {"message": "scripted failure at http://127.0.0.1:1/v1", "type": self.fail_type},
                    status_code=self.fail_with,
                )
            result = TaskResult(
                task_id=task.task_id, agent=self.name, output=self.output, data=self.data, sources=self.sources
            )
            if not task.stream:
                return result

            async def events():
                for word in self.output.split(" "):
                    yield token(word + " ", self.name).to_sse()
                result.output = " ".join(w for w in self.output.split(" ")) + " "
                yield TaskEvent(type=EventType.result, data=result).to_sse()

            return StreamingResponse(events(), media_type="text/event-stream")

        @app.get("/health")
        async def health():
            return {"status": "ok"}

        return app
