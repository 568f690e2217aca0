"""`make up` / `make down` / `make status`, restarts and readiness, on the real processes."""

import os
import signal
import socket
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import Stack, free_ports

PROCESSES = ["redis", "llm", "writer", "analyst", "researcher", "supervisor", "gateway"]


def port_bound(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def stack(embedded_stack):
    """`make up` as a user runs it: all seven processes, the embedded model among them."""
    return embedded_stack


@pytest.mark.xdist_group("embedded")
def test_status_shows_the_seven_processes_healthy(stack):
    status = stack.run("status")
    rows = {line.split()[0]: line for line in status.stdout.splitlines()[1:]}
    assert list(rows) == PROCESSES
    for name in PROCESSES:
        assert "RUNNING" in rows[name] and rows[name].rstrip().endswith("ready"), rows[name]
        assert str(stack.pid(name)) in rows[name]


@pytest.mark.xdist_group("embedded")
def test_up_again_is_idempotent_and_quick(stack):
    pids = {name: stack.pid(name) for name in PROCESSES}
    again = stack.run("up")
    assert "Chorus is up" in again.stdout
    assert {name: stack.pid(name) for name in PROCESSES} == pids  # nothing restarted


@pytest.mark.xdist_group("embedded")
def test_crashed_writer_is_restarted_and_healthy(stack):
    old = stack.pid("writer")
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 60  # a hang guard, not a speed claim: bench/ and the note give the figure
    while time.monotonic() < deadline:
        info = stack.rpc().getProcessInfo("writer")
        if info["pid"] not in (0, old):
            try:
                if httpx.get(stack.url("writer") + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    else:
        raise AssertionError("the writer did not come back")
    stack.wait_ready("writer")


@pytest.mark.xdist_group("embedded")
def test_readiness_reports_a_stopped_dependency(stack):
    assert httpx.get(stack.url("gateway") + "/ready").status_code == 200
    stack.rpc().stopProcess("redis")
    try:
        ready = httpx.get(stack.url("gateway") + "/ready", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"] != "ok"
        assert ready.json()["checks"]["supervisor"] == "ok"
        # and a request that needs Redis says so rather than hanging (the client's timeout would fail it)
        answer = httpx.post(
            stack.base_url + "/chat/completions",
            timeout=30,
            json={"model": "chorus", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert answer.status_code == 503
        assert "Redis" in answer.json()["error"]["message"]
        assert answer.headers["x-should-retry"] == "false"
    finally:
        stack.rpc().startProcess("redis")
    stack.wait_ready("gateway")


@pytest.mark.xdist_group("embedded")
def test_agent_readiness_reports_its_llm(stack):
    body = httpx.get(stack.url("researcher") + "/ready").json()
    queue = body.pop("llm_queue")  # its LLM calls: running, waiting, and the limits (the embedded slots)
    assert body == {"status": "ready", "process": "researcher", "checks": {"llm": "ok"}, "profile": "basic"}
    assert queue["limit"] == 4 and queue["queue_limit"] == 64 and queue["running"] >= 0 and queue["waiting"] >= 0
    assert httpx.get(stack.url("supervisor") + "/ready").json()["checks"] == {
        "researcher": "ok",
        "analyst": "ok",
        "writer": "ok",
    }


def test_cold_up_then_down_leaves_nothing_running():
    """A second, separate system: up from nothing, down twice, no process and no port left."""
    root = Path(tempfile.mkdtemp(prefix="chorus-updown-"))
    system = Stack(root, free_ports())
    try:
        up = system.run("up", check=False)
        assert up.returncode == 0, up.stderr
        for name, port in system.ports.items():
            assert f"127.0.0.1:{port}" in up.stdout
        pids = [system.pid(name) for name in PROCESSES]
        supervisord_pid = int((root / "run" / "supervisord.pid").read_text())
    finally:
        down = system.run("down", check=False)
    assert down.returncode == 0
    for pid in [*pids, supervisord_pid]:
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} still running"
    for name, port in system.ports.items():
        assert not port_bound(port), f"{name}'s port {port} still bound"
    twice = system.run("down")
    assert "not running" in twice.stdout


def test_up_names_the_process_that_fails_and_shows_its_log():
    root = Path(tempfile.mkdtemp(prefix="chorus-broken-"))
    # the local model's file is missing: the llm process exits at once, again and again
    system = Stack(root, free_ports(), extra_env={"LOCAL_LLM_MODEL_PATH": str(root / "missing.gguf")})
    try:
        up = system.run("up", check=False)
        left_running = (root / "run" / "supervisord.pid").exists()
    finally:
        system.run("down", check=False)
    assert up.returncode != 0
    assert not left_running  # a failed `up` stops what it started
    assert "llm failed to become ready" in up.stderr
    assert "model file not found" in up.stderr  # the tail of its log
