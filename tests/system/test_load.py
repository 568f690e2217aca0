"""A bounded load on loopback: 200 concurrent streaming conversations through the whole team, with
a fake LLM (bench/fake_llm.py: 20 tokens, 50 ms apart) so that the load is on Chorus, not a model."""

import asyncio
import json
import threading

import httpx
import pytest

from bench.fake_llm import word
from bench.systems import chorus_on_a_fake_in_the_models_place

CONVERSATIONS = 200
QUESTION = "Research what the docs say about Redis and compute the growth from 120 to 150."


def stack_on_a_fake_llm(tokens: int, delay: float):
    """A whole Chorus system with the fake LLM (bench/fake_llm.py) in the embedded model's place."""
    return chorus_on_a_fake_in_the_models_place(tokens, delay)


@pytest.fixture(scope="module")
def fake_llm_stack():
    with stack_on_a_fake_llm(tokens=20, delay=0.05) as system:
        yield system


async def converse(http: httpx.AsyncClient, base_url: str, index: int) -> tuple[str, str, list[dict]]:
    conversation = f"load-{index}"
    chunks, text = [], []
    async with http.stream(
        "POST",
        base_url + "/chat/completions",
        json={
            "model": "chorus",
            "stream": True,
            "conversation_id": conversation,
            "messages": [{"role": "user", "content": QUESTION}],
        },
    ) as response:
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
        assert "25%" in text and word(19) in text, (conversation, text)  # computed, and the LLM's last word
    with httpx.Client(base_url=fake_llm_stack.base_url, timeout=30) as http:
        for conversation, text, _ in outcomes:
            stored = http.get(f"/conversations/{conversation}").json()["messages"]
            assert [m["role"] for m in stored] == ["user", "assistant"], conversation
            assert stored[1]["content"] == text, conversation
        metrics = http.get(fake_llm_stack.url("gateway") + "/metrics").text
    assert 'chorus_active_streams{process="gateway"} 0.0' in metrics
    assert f'route="/chat/completions",status="200"}} {CONVERSATIONS}.0' in metrics  # one template, with or without /v1


def test_make_down_during_a_stream_lets_the_stream_finish():
    """`make down` stops the gateway first and gives its streams their grace."""
    with stack_on_a_fake_llm(tokens=120, delay=0.05) as system:  # a 6-second answer
        text, done, stopped = [], False, []
        down = threading.Thread(target=lambda: stopped.append(system.run("down", check=False)))
        with httpx.stream(
            "POST",
            system.base_url + "/chat/completions",
            timeout=120,
            json={"model": "chorus", "stream": True, "messages": [{"role": "user", "content": "hello"}]},
        ) as response:
            for line in response.iter_lines():
                if line == "data: [DONE]":
                    done = True
                elif line.startswith("data: "):
                    chunk = json.loads(line[6:])
                    assert "error" not in chunk, chunk
                    delta = chunk["choices"][0]["delta"].get("content") if chunk.get("choices") else None
                    if delta:
                        text.append(delta)
                        if not down.is_alive() and not stopped:
                            down.start()  # at the first words of the answer
        down.join(120)
        assert stopped and stopped[0].returncode == 0 and "Chorus stopped." in stopped[0].stdout
        assert done and word(119) in "".join(text)  # the whole answer came, then [DONE]
        assert system.run("status", check=False).returncode == 1  # nothing left running
