"""Test helpers: real servers on loopback (uvicorn in a thread) and the system under test."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from config.settings import Settings
from runtime.isolated import ROOT, Stack, stack_ports  # noqa: F401 (the system under test)


class ServerThread:
    """A real uvicorn server for an ASGI app, on a free loopback port, in a background thread."""

    def __init__(self, app, port: int = 0):
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
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
        self.thread.join(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway_settings(stack: Stack, **overrides) -> Settings:
    """An in-process gateway's settings, in front of the stack's team and Redis (keys, limits: overrides)."""
    token = (stack.root / "run" / "internal_token").read_text().strip()
    return Settings(_env_file=None, redis_url=f"redis://127.0.0.1:{stack.ports['redis']}/0", internal_token=token,
                    **{f"{name}_url": stack.url(name) for name in ("supervisor", "researcher", "analyst", "writer")},
                    **overrides)
