import asyncio
import threading
import time

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse

from orchestration.http import make_session
from orchestration.protocol import (
    AgentCallError,
    EventType,
    TaskClient,
    TaskEvent,
    TaskRequest,
    TaskResult,
    token,
    within,
)
from orchestration.sse import events_of
from tests.helpers import ServerThread, free_port


def test_events_round_trip_through_sse():
    result = TaskResult(task_id="t", agent="writer", output="hi\nthere", data={"x": 1})
    for event in [token("hel\n\n", "writer"), TaskEvent(type=EventType.result, data=result)]:
        wire = event.to_sse().decode()
        assert wire.endswith("\n\n") and wire.count("\n") == 3  # one event, its newlines escaped
        kind, data = (line.split(": ", 1)[1] for line in wire.strip().split("\n"))
        assert TaskEvent.parse(kind, data) == event


def test_task_carries_ids_params_and_deadline():
    task = TaskRequest(instruction="x", params={"temperature": 0.1, "stop": ["\n"]})
    assert task.request_id.startswith("req-") and task.seconds_left() > 100
    assert task.params.llm_kwargs() == {"temperature": 0.1, "stop": ["\n"]}
    with pytest.raises(ValueError):
        TaskRequest(instruction="x", params={"temperature": 0.1, "bogus": 1})


def scripted_app(statuses: list[int], seen: list[dict]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/tasks")
    async def run_scripted(task: TaskRequest):
        seen.append(task.model_dump())
        status = statuses.pop(0) if statuses else 200
        if status != 200:
            return JSONResponse({"message": f"status {status}"}, status_code=status)
        return TaskResult(task_id=task.task_id, agent="fake", output="ok")

    return app


async def test_retries_a_503_refusal_then_succeeds():
    seen: list[dict] = []
    with ServerThread(scripted_app([503, 503], seen)) as server:
        async with make_session() as http:
            result = await TaskClient(http, attempts=3).run(server.url, TaskRequest(instruction="x"))
    assert result.output == "ok" and len(seen) == 3


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_does_not_retry_what_may_have_run(status):
    seen: list[dict] = []
    with ServerThread(scripted_app([status], seen)) as server:
        async with make_session() as http:
            with pytest.raises(AgentCallError) as caught:
                await TaskClient(http, attempts=3).run(server.url, TaskRequest(instruction="x"))
    assert caught.value.status == status and len(seen) == 1


async def test_a_connection_reset_in_the_middle_of_a_task_is_not_retried():
    # the request reached the server, which may have run it
    arrived = []

    async def read_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        arrived.append(1)
        writer.transport.abort()

    server = await asyncio.start_server(read_then_hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, make_session() as http:
        with pytest.raises(AgentCallError) as caught:
            await TaskClient(http, attempts=3).run(f"http://127.0.0.1:{port}", TaskRequest(instruction="x"))
    assert not caught.value.retryable and len(arrived) == 1


async def test_connection_refused_is_retried_then_reported():
    async with make_session() as http:
        with pytest.raises(AgentCallError) as caught:
            await TaskClient(http, attempts=2).run(f"http://127.0.0.1:{free_port()}", TaskRequest(instruction="x"))
    assert caught.value.retryable


async def test_stream_is_not_retried_once_output_was_produced():
    calls = []
    app = FastAPI()

    @app.post("/v1/tasks")
    async def run(task: TaskRequest):
        calls.append(1)

        async def body():
            yield token("partial").to_sse()
            await asyncio.sleep(0.05)
            raise RuntimeError("connection dropped mid-stream")

        return StreamingResponse(body(), media_type="text/event-stream")

    received = []
    with ServerThread(app) as server:
        async with make_session() as http:
            with pytest.raises(AgentCallError):
                async for event in TaskClient(http, attempts=3).stream(server.url, TaskRequest(instruction="x")):
                    received.append(event)
    assert [e.data.delta for e in received] == ["partial"]
    assert len(calls) == 1


async def test_deadline_bounds_the_call():
    app = FastAPI()
    handler_finished = threading.Event()

    @app.post("/v1/tasks")
    async def slow(task: TaskRequest):
        await asyncio.sleep(30)
        handler_finished.set()

    with ServerThread(app) as server:
        async with make_session() as http:
            task = TaskRequest(instruction="x", deadline=time.time() + 0.3)
            with pytest.raises(AgentCallError) as raised:
                await TaskClient(http).run(server.url, task)
            # the caller gave up at its deadline, while the slow handler was still running
            assert not handler_finished.is_set()
    assert raised.value.deadline and not raised.value.retryable


def malformed_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/tasks")
    async def run_malformed(task: TaskRequest):
        if task.stream:

            async def events():
                yield b'event: token\ndata: {"delta": 5}\n\n'

            return StreamingResponse(events(), media_type="text/event-stream")
        return JSONResponse({"output": None})

    return app


async def test_a_malformed_reply_is_an_agent_failure_not_a_crash():
    with ServerThread(malformed_app()) as server:
        async with make_session() as http:
            client = TaskClient(http, attempts=1)
            with pytest.raises(AgentCallError, match="malformed"):
                await client.run(server.url, TaskRequest(instruction="x"))
            with pytest.raises(AgentCallError, match="malformed"):
                async for _ in client.stream(server.url, TaskRequest(instruction="x")):
                    pass


async def test_within_ends_a_stream_at_its_deadline_however_often_it_is_pinged_and_closes_the_source():
    closed = []

    async def pinging_forever():
        try:
            while True:  # like a server whose keep-alive pings reset any per-read timeout
                yield token(" ")
                await asyncio.sleep(0.01)
        finally:
            closed.append(True)

    seen = []
    with pytest.raises(AgentCallError) as caught:
        async for event in within(pinging_forever(), time.time() + 0.3):
            seen.append(event)
    assert caught.value.deadline and not caught.value.retryable
    assert seen and closed == [True]


async def _chunked(chunks: list[bytes]):
    for chunk in chunks:
        yield chunk


async def test_server_sent_events_are_framed_across_any_chunking():
    big = token("x" * 300_000)  # one line longer than aiohttp's 128 KiB line limit
    wire = token("hello").to_sse() + b": ping\n\n" + big.to_sse() + token("bye").to_sse()
    for size in (1, 7, 4096, len(wire)):
        chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
        events = [TaskEvent.parse(kind, data) async for kind, data in events_of(_chunked(chunks))]
        assert [e.data.delta for e in events] == ["hello", "x" * 300_000, "bye"], size
