"""Test helpers: real servers on loopback (uvicorn in a thread) and the system under test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Self

import httpx
import uvicorn

from bench.systems import ROOT, Stack, free_ports
from config.settings import Settings


class ServerThread:
    """A real uvicorn server for an ASGI app, on a free loopback port, in a background thread."""

    def __init__(self, app, port: int = 0):
        # A handler still running at exit (a test's deliberately stalled agent) is cancelled after 1 s:
        # a server left running in a daemon thread can crash the interpreter at its exit, when its
        # event loop's next callback wakes into a finalised interpreter.
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)  # a liveness guard, not a speed bound
        if self.thread.is_alive() and exc[0] is None:  # never hide the test's own failure
            raise RuntimeError("test server did not stop")


def free_port() -> int:
    return free_ports(["port"])["port"]


def gateway_settings(stack: Stack, **overrides) -> Settings:
    """An in-process gateway's settings, in front of the stack's team and Redis (keys, limits: overrides)."""
    token = (stack.root / "run" / "internal_token").read_text().strip()
    return Settings(
        _env_file=None,
        redis_url=f"redis://127.0.0.1:{stack.ports['redis']}/0",
        internal_token=token,
        **{f"{name}_url": stack.url(name) for name in ("supervisor", "researcher", "analyst", "writer")},
        **overrides,
    )


def start_of_a_window() -> None:
    """Rates count per fixed minute: begin well inside one, so the test's requests share it."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


class ServerProcess:
    """One Chorus server (`python -m servers NAME`) in a process of its own, with the given settings
    as its environment; stopped by its PID. `prefix` runs it elsewhere (`ip netns exec HOST`)."""

    def __init__(self, name: str, env: dict[str, str], url: str, log: Path, prefix: tuple[str, ...] = ()):
        self.name, self.url, self.log = name, url, log
        self.process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "servers", name],
            cwd=ROOT,
            env=os.environ | env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, attempts: int = 600) -> ServerProcess:
        for _ in range(attempts):  # a liveness guard (up to a minute, on a loaded machine), not a speed bound
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log.read_text()[-3000:]}"
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """As a crash: no drain."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Self:
        return self.wait_ready()

    def __exit__(self, *exc) -> None:
        self.stop()


# The built-in agents as a team file declares them (config/team.toml without its comments), for the
# tests that add members to it; an entry appended to it starts on line 12.
BUILT_IN_TEAM = """
[[agent]]
name = "researcher"

[[agent]]
name = "analyst"

[[agent]]
name = "writer"
role = "writer"
"""
