"""Streaming is not buffered at any hop: through gateway -> supervisor -> writer, each token reaches
the client before the LLM sends the next one. The fake LLM sends in lockstep with the client, so the
assertion is on order, not on time."""

import json
import threading

import httpx
import pytest

from bench.fake_llm import create_app, word
from bench.systems import chorus_on_fake_llm
from tests.helpers import ServerThread, stack_ports

TOKENS = 12
PATIENCE = 20  # seconds the LLM waits for the client before sending anyway (a buffering hop)


def test_each_token_reaches_the_client_before_the_llm_sends_the_next():
    seen = [threading.Event() for _ in range(TOKENS)]  # the client has received token i
    in_order: list[bool] = []  # for each token after the first: was the one before it received?
    streaming = threading.Event()  # only the answer's stream is in lockstep (not readiness calls)

    async def before_token(i: int) -> None:
        import asyncio

        if streaming.is_set():
            in_order.append(await asyncio.to_thread(seen[i - 1].wait, PATIENCE))

    with ServerThread(create_app(TOKENS, 0.0, before_token), port=stack_ports(18400)["llm"]), \
            chorus_on_fake_llm(18400) as system:
        streaming.set()
        text = ""
        with httpx.stream("POST", system.base_url + "/chat/completions", timeout=300, json={
                "model": "chorus", "stream": True, "messages": [{"role": "user", "content": "Hello there!"}]}) as response:
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
        whole = httpx.post(system.base_url + "/chat/completions", timeout=300, json={
            "model": "chorus", "messages": [{"role": "user", "content": "Hello again!"}]})
        models = httpx.get(system.base_url + "/models", timeout=30)
        overheads += [whole.headers["x-chorus-overhead-ms"], models.headers["x-chorus-overhead-ms"]]
        metadata = whole.json()["metadata"]
    assert all(float(value) >= 0 for value in overheads), overheads
    seconds = float(metadata["execution_time_seconds"])
    assert float(metadata["llm_time_seconds"]) > 0  # the writer waited on its LLM...
    assert float(metadata["overhead_ms"]) == pytest.approx(  # ...and that is not counted as Chorus's
        max(seconds * 1000 - float(metadata["llm_time_seconds"]) * 1000, 0), abs=1.5)
    assert agents == "writer"  # the plan went to the writer, through the supervisor
    assert all(word(i) in text for i in range(TOKENS)), text
    assert len(in_order) == TOKENS - 1 and all(in_order), in_order
