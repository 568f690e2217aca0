"""The embedded runtime works offline: the local model answers, tiktoken counts with both encodings."""

import os
import subprocess
import sys
import tempfile
import time

import httpx
import pytest
from openai import OpenAI

from config.settings import LOCAL_MODEL_NAME, Settings
from runtime import tiktoken_cache
from servers.gateway import create_app
from tests.helpers import ROOT, ServerThread, free_port

OFFLINE = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}  # any attempt to download would fail


@pytest.mark.xdist_group("embedded")
def test_local_llm_answers_openai_chat_completions(embedded_stack):
    stack = embedded_stack
    with OpenAI(base_url=stack.url("llm") + "/v1", api_key="none") as client:
        answer = client.chat.completions.create(
            model=LOCAL_MODEL_NAME, max_tokens=16, messages=[{"role": "user", "content": "Say hello."}]
        )
    assert answer.choices[0].message.content.strip()
    assert answer.usage.completion_tokens > 0


def test_tiktoken_counts_with_both_encodings_offline():
    cache = tempfile.mkdtemp(prefix="tiktoken-")
    seeded = subprocess.run(
        [
            sys.executable,
            "-c",
            (f"from runtime import tiktoken_cache; from pathlib import Path; tiktoken_cache.seed(Path({cache!r}))"),
        ],
        cwd=ROOT,
        env=os.environ | OFFLINE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr
    assert len(os.listdir(cache)) == len(tiktoken_cache.ENCODINGS)
    counted = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import tiktoken; print(*[len(tiktoken.get_encoding(n).encode('hello world')) "
                "for n in ('cl100k_base', 'o200k_base')])"
            ),
        ],
        cwd=ROOT,
        env=os.environ | OFFLINE | {"TIKTOKEN_CACHE_DIR": cache},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.split() == ["2", "2"]


def test_api_keys_are_required_when_configured(stack):
    settings = Settings(_env_file=None, api_keys="k1,k2", redis_url=f"redis://127.0.0.1:{stack.ports['redis']}/0")
    with ServerThread(create_app(settings)) as gateway:
        missing = httpx.get(gateway.url + "/v1/models")
        wrong = httpx.get(gateway.url + "/v1/models", headers={"authorization": "Bearer nope"})
        right = httpx.get(gateway.url + "/v1/models", headers={"authorization": "Bearer k2"})
        open_health = httpx.get(gateway.url + "/health")
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
    assert right.status_code == 200 and open_health.status_code == 200


def test_a_server_started_outside_make_up_counts_tokens_offline_from_its_first_request(stack):
    """A second gateway started as the Dockerfile starts it (`python -m servers gateway`), as a process
    manager would run it: no TIKTOKEN_CACHE_DIR, a data dir of its own, and no way to download."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="chorus-data-")
    env = (
        {k: v for k, v in stack.env.items() if k != "TIKTOKEN_CACHE_DIR"}
        | OFFLINE
        | {
            "GATEWAY_PORT": str(port),
            "DATA_DIR": data,
            "INTERNAL_TOKEN": stack.internal["authorization"].removeprefix("Bearer "),
        }
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "servers", "gateway"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # a liveness guard while it starts, not a speed bound
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.1)
        reply = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            timeout=120,
            json={"model": "chorus-analyst", "messages": [{"role": "user", "content": "What is 17 * 23?"}]},
        )
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert reply.status_code == 200, reply.text
    assert reply.json()["usage"]["completion_tokens"] > 0  # counted with tiktoken, offline
    assert len(os.listdir(os.path.join(data, "tiktoken"))) == len(tiktoken_cache.ENCODINGS)  # seeded by the server


def test_ready_says_which_profile_each_agent_runs(stack):
    """The fake stands where the embedded model would be: every agent that calls an LLM runs basic."""
    ready = {
        name: httpx.get(stack.url(name) + "/ready").json() for name in ("supervisor", "researcher", "analyst", "writer")
    }
    assert [ready[name]["profile"] for name in ("supervisor", "researcher", "writer")] == ["basic"] * 3
    assert ready["supervisor"]["planner"] == "rules" and ready["analyst"]["profile"] == "basic"
    assert ready["analyst"]["llm"].startswith("none")
