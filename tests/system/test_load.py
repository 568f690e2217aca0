"""A bounded load on loopback: 200 concurrent streaming conversations through the whole team, with
a fake LLM (bench/fake_llm.py: 20 tokens, 50 ms apart) so that the load is on Chorus, not a model."""

import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.helpers import ROOT, Stack, stack_ports

CONVERSATIONS = 200
QUESTION = "Research what the docs say about Redis and compute the growth from 120 to 150."


@pytest.fixture(scope="module")
def fake_llm_stack():
    ports = stack_ports(18200)
    llm_port = ports.pop("llm")
    fake = subprocess.Popen([sys.executable, "-m", "bench.fake_llm", "--port", str(llm_port),
                             "--tokens", "20", "--delay", "0.05"], cwd=ROOT)
    root = Path(tempfile.mkdtemp(prefix="chorus-load-"))
    system = Stack(root, {**ports, "llm": llm_port}, extra_env={
        "LLM_BASE_URL": f"http://127.0.0.1:{llm_port}/v1", "LLM_MODEL": "fake-llm", "EMBEDDED_LLM": "off"})
    try:
        started = system.run("up", check=False)
        if started.returncode != 0:
            pytest.fail(f"the load stack did not start:\n{started.stdout}\n{started.stderr}")
        yield system
    finally:
        system.run("down", check=False)
        fake.terminate()
        fake.wait(30)


async def converse(http: httpx.AsyncClient, base_url: str, index: int) -> tuple[str, str, list[dict]]:
    conversation = f"load-{index}"
    chunks, text = [], []
    async with http.stream("POST", base_url + "/chat/completions", json={
            "model": "chorus", "stream": True, "conversation_id": conversation,
            "messages": [{"role": "user", "content": QUESTION}]}) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunk = json.loads(line[6:])
                chunks.append(chunk)
                if chunk.get("choices"):
                    text.append(chunk["choices"][0]["delta"].get("content") or "")
            elif line == "data: [DONE]":
                chunks.append({"done": True})
    return conversation, "".join(text), chunks


async def run_load(base_url: str) -> list[tuple[str, str, list[dict]]]:
    limits = httpx.Limits(max_connections=CONVERSATIONS + 10)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        return await asyncio.gather(*(converse(http, base_url, i) for i in range(CONVERSATIONS)))


def test_200_concurrent_streaming_conversations_have_no_errors_and_each_turn_is_stored_once(fake_llm_stack):
    outcomes = asyncio.run(run_load(fake_llm_stack.base_url))
    for conversation, text, chunks in outcomes:
        assert chunks[-1] == {"done": True}, conversation
        assert not any("error" in chunk for chunk in chunks), conversation
        assert "25%" in text and "here today at last" in text, (conversation, text)  # computed, and all 20 words
    with httpx.Client(base_url=fake_llm_stack.base_url, timeout=30) as http:
        for conversation, text, _ in outcomes:
            stored = http.get(f"/conversations/{conversation}").json()["messages"]
            assert [m["role"] for m in stored] == ["user", "assistant"], conversation
            assert stored[1]["content"] == text, conversation
        metrics = http.get(fake_llm_stack.url("gateway") + "/metrics").text
    assert 'chorus_active_streams{process="gateway"} 0.0' in metrics
    assert f'route="/chat/completions",status="200"}} {CONVERSATIONS}.0' in metrics  # one template, with or without /v1
