"""Size caps and the per-key concurrency limit (pure logic; the Redis rates are tested on the stack)."""

import asyncio
import threading

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.middleware import Middleware

from config.settings import Settings
from orchestration.protocol import Message
from servers.gateway.errors import BadRequest
from servers.gateway.limits import Limiter, RateLimits, check_sizes
from tests.helpers import ServerThread


def test_size_caps_name_the_parameter():
    settings = Settings(_env_file=None, max_messages=3, max_message_chars=10, max_output_tokens=100, max_choices=2)
    one = [[Message(role="user", content="hi")]]
    check_sizes(settings, one, 100, 2)  # at the limits: allowed
    cases = [
        ([[Message(role="user", content="hi")] * 4], None, None, "messages", "too_many_messages"),
        ([[Message(role="user", content="x" * 11)]], None, None, "messages", "message_too_long"),
        (one, 101, None, "max_tokens", "max_tokens_too_large"),
        (one, None, 3, "n", "n_too_large"),
    ]
    for prompts, max_tokens, n, param, code in cases:
        with pytest.raises(BadRequest) as refused:
            check_sizes(settings, prompts, max_tokens, n)
        assert (refused.value.param, refused.value.code) == (param, code)


def held_app(release: threading.Event, entered: threading.Event) -> FastAPI:
    """A fake gateway whose chat route holds each request until released."""
    app = FastAPI(middleware=[Middleware(Limiter, max_concurrent=1)])
    app.state.rate_limits = RateLimits(None, None, None)  # rates off: no Redis needed

    @app.post("/v1/chat/completions")
    async def held(request: Request):
        entered.set()
        while not release.is_set():
            await asyncio.sleep(0.01)
        return {"ok": True}

    return app


def test_a_key_over_its_concurrency_limit_gets_a_429_until_one_finishes():
    release, entered = threading.Event(), threading.Event()
    with ServerThread(held_app(release, entered)) as server:
        url = server.url + "/v1/chat/completions"
        first: list[httpx.Response] = []
        holder = threading.Thread(target=lambda: first.append(httpx.post(url, json={}, timeout=30)))
        holder.start()
        assert entered.wait(10)
        refused = httpx.post(url, json={})
        release.set()
        holder.join(10)
        after = httpx.post(url, json={})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_concurrent_requests"
    assert refused.headers["retry-after"] == "1"
    assert first[0].status_code == 200 and after.status_code == 200  # the slot came back
