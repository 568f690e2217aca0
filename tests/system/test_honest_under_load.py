"""Honest under load (issue 22): 20 conversations at once, 3 turns each, half streamed and half not, on
the real processes and the embedded model. Every turn is an answer whose text holds no internal
detail, or a clean 429, 503 or 504 (a 503 with retry-after); every stored history holds only real
answers, one for each turn answered."""

import asyncio
import json
import re
import time

import httpx
import pytest

# The tests whose point is the model: the whole module on the embedded model, in the worker that runs it.
pytestmark = pytest.mark.xdist_group("embedded")


@pytest.fixture(scope="module")
def stack(embedded_stack):
    return embedded_stack


CONVERSATIONS = 20
# a figure (no model), a question of fact (quoted passages, no model), small talk (the model writes)
TURNS = ("What is 17 * {n}?", "What do the docs say about Redis persistence?", "Say hello to me in one sentence.")
INTERNAL = re.compile(
    r"127\.0\.0\.1|\bLLM at\b|unreachable|Traceback|skipped: its circuit|broke off|"
    r"could not answer \(|SocketTimeout|ClientConnector|AgentCallError",
    re.IGNORECASE,
)
REFUSALS = {429, 503, 504}
ANSWER_TOKENS = 64  # each answer capped: the load is the point, not how long the small model writes


async def turn(http: httpx.AsyncClient, url: str, conversation: str, text: str, stream: bool) -> tuple[int, str]:
    body = {
        "model": "chorus",
        "stream": stream,
        "conversation_id": conversation,
        "max_tokens": ANSWER_TOKENS,
        "messages": [{"role": "user", "content": text}],
    }
    if not stream:
        reply = await http.post(url, json=body)
        if reply.status_code != 200:
            assert reply.status_code in REFUSALS, reply.text
            assert reply.status_code != 503 or int(reply.headers["retry-after"]) >= 1
            return reply.status_code, ""
        return 200, reply.json()["choices"][0]["message"]["content"]
    parts: list[str] = []
    async with http.stream("POST", url, json=body) as reply:
        if reply.status_code != 200:
            assert reply.status_code in REFUSALS, await reply.aread()
            return reply.status_code, ""
        async for line in reply.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if "error" in chunk:  # a stream that fails ends with an error event: the turn is refused
                assert chunk["error"]["code"] in ("team_unavailable", "deadline_exceeded"), chunk
                return 503 if chunk["error"]["code"] == "team_unavailable" else 504, ""
            for choice in chunk.get("choices") or []:
                parts.append(choice["delta"].get("content") or "")
    return 200, "".join(parts)


SLOWEST: list[float] = []  # reported, not asserted: speed goals live in bench/


async def conversation(http: httpx.AsyncClient, base_url: str, n: int) -> tuple[str, list[tuple[int, str]]]:
    name = f"honest-{n}"
    outcomes = []
    for text in TURNS:
        started = time.perf_counter()
        outcomes.append(await turn(http, base_url + "/chat/completions", name, text.format(n=n + 10), n % 2 == 0))
        SLOWEST.append(time.perf_counter() - started)
    return name, outcomes


async def run_load(base_url: str) -> list[tuple[str, list[tuple[int, str]]]]:
    async with httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=CONVERSATIONS + 5)) as http:
        return await asyncio.gather(*(conversation(http, base_url, n) for n in range(CONVERSATIONS)))


def test_twenty_conversations_at_once_get_real_answers_or_clean_refusals(stack):
    outcomes = asyncio.run(run_load(stack.base_url))
    answered = refused = 0
    for name, turns in outcomes:
        for status, text in turns:
            if status == 200:
                answered += 1
                assert text.strip() and not INTERNAL.search(text), (name, text)
            else:
                refused += 1
        stored = httpx.get(f"{stack.base_url}/conversations/{name}", timeout=60)
        answers = (
            [m["content"] for m in stored.json()["messages"] if m["role"] == "assistant"]
            if stored.status_code == 200
            else []
        )
        assert len(answers) == sum(status == 200 for status, _ in turns), name  # a refused turn is not stored
        assert not any(INTERNAL.search(answer) for answer in answers), name
    print(
        f"\n{CONVERSATIONS} conversations x {len(TURNS)} turns: {answered} answered, {refused} refused; "
        f"slowest turn {max(SLOWEST):.1f} s"
    )
    assert answered + refused == CONVERSATIONS * len(TURNS)
    # the figures and the quoted passages need no model: a busy model cannot refuse them
    assert all(status == 200 and str(17 * (n + 10)) in text for n, (_, ((status, text), *_)) in enumerate(outcomes))
