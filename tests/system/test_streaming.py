"""Streaming is not buffered at any hop: through gateway -> supervisor -> writer, each token reaches
the client before the LLM sends the next one, and a silence is filled with keep-alive pings. The fake
LLM sends in step with what the client has received, so the assertions are on order, not on time."""

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable

import httpx
import pytest

from bench.fake_llm import create_app, word
from bench.systems import chorus_system, free_ports
from tests.helpers import ServerThread

# Both tests share one system of their own: one worker runs them, so it is started once.
pytestmark = pytest.mark.xdist_group("streaming")
TOKENS = 12
PATIENCE = 20  # seconds the LLM waits for the client before sending anyway (a buffering hop)


class Hold:
    """What the fake LLM awaits before each token of the answer's stream: set by each test, and
    unset for everything else (readiness calls)."""

    def __init__(self) -> None:
        self.before_token: Callable[[int], Awaitable[None]] | None = None

    async def __call__(self, i: int) -> None:
        if self.before_token:
            await self.before_token(i)


@pytest.fixture(scope="module")
def system_on_a_fake_llm():
    hold = Hold()
    ports = free_ports()  # the fake in the embedded model's place
    with (
        ServerThread(create_app(TOKENS, 0.0, hold), port=ports["llm"]),
        chorus_system({"EMBEDDED_LLM": "off", "STREAM_KEEPALIVE_SECONDS": "0.2"}, ports=ports) as system,
    ):
        yield system, hold


def test_each_token_reaches_the_client_before_the_llm_sends_the_next(system_on_a_fake_llm):
    system, hold = system_on_a_fake_llm
    seen = [threading.Event() for _ in range(TOKENS)]  # the client has received token i
    in_order: list[bool] = []  # for each token after the first: was the one before it received?

    async def before_token(i: int) -> None:
        if i:
            in_order.append(await asyncio.to_thread(seen[i - 1].wait, PATIENCE))

    hold.before_token = before_token
    try:
        text = ""
        with httpx.stream(
            "POST",
            system.base_url + "/chat/completions",
            timeout=300,
            json={"model": "chorus", "stream": True, "messages": [{"role": "user", "content": "Hello there!"}]},
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                assert "error" not in chunk, chunk
                for choice in chunk.get("choices") or []:
                    text += choice["delta"].get("content") or ""
                words = {w.strip(".") for w in text.split()}
                for i in range(TOKENS):
                    if word(i) in words:
                        seen[i].set()
        agents = response.headers.get("x-agents-used")
        overheads = [response.headers["x-chorus-overhead-ms"]]
        # the overhead header is on every response, streamed or not; the answer says it for the whole
        whole = httpx.post(
            system.base_url + "/chat/completions",
            timeout=300,
            json={"model": "chorus", "messages": [{"role": "user", "content": "Hello again!"}]},
        )
        models = httpx.get(system.base_url + "/models", timeout=30)
        overheads += [whole.headers["x-chorus-overhead-ms"], models.headers["x-chorus-overhead-ms"]]
        metadata = whole.json()["metadata"]
    finally:
        hold.before_token = None
    assert all(float(value) >= 0 for value in overheads), overheads
    seconds = float(metadata["execution_time_seconds"])
    assert float(metadata["llm_time_seconds"]) > 0  # the writer waited on its LLM...
    assert float(metadata["overhead_ms"]) == pytest.approx(  # ...and that is not counted as Chorus's
        max(seconds * 1000 - float(metadata["llm_time_seconds"]) * 1000, 0), abs=1.5
    )
    assert agents == "writer"  # the plan went to the writer, through the supervisor
    assert all(word(i) in text for i in range(TOKENS)), text
    assert len(in_order) == TOKENS - 1 and all(in_order), in_order


def test_a_silent_stream_is_kept_alive_until_its_first_token(system_on_a_fake_llm):
    """The LLM holds its first token until the client has seen a keep-alive ping: while nothing else
    moves, pings must come through every hop (a proxy or voice platform would drop a silent stream)."""
    system, hold = system_on_a_fake_llm
    pinged = threading.Event()
    released_by_a_ping: list[bool] = []

    async def before_token(i: int) -> None:
        if i == 0:
            released_by_a_ping.append(await asyncio.to_thread(pinged.wait, PATIENCE))

    hold.before_token = before_token
    try:
        lines = []
        with httpx.stream(
            "POST",
            system.base_url + "/chat/completions",
            timeout=300,
            json={
                "model": "chorus",
                "stream": True,
                "chorus_progress": "none",
                "messages": [{"role": "user", "content": "Hello there!"}],
            },
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith(":"):
                    pinged.set()
                if line:
                    lines.append(line)
    finally:
        hold.before_token = None
    first_content = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("data: {") and '"content":"' in line and '"content":""' not in line
    )
    assert released_by_a_ping == [True]
    assert any(line.startswith(":") for line in lines[:first_content])
    assert word(0) in lines[first_content]
    assert lines[-1] == "data: [DONE]"
