"""A whole Chorus system on its own ports and folders, started by the real launcher: the system the
tests, the evals and the benchmark run against."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    """A whole Chorus system started by the real launcher, on its own ports and folders."""

    root: Path
    ports: dict[str, int]
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_PORT", "_URL"))}
        env.update({f"{name.upper()}_PORT": str(port) for name, port in self.ports.items()
                    if name != "redis"})
        env.update(
            REDIS_URL=f"redis://127.0.0.1:{self.ports['redis']}/0",
            RUN_DIR=str(self.root / "run"), DATA_DIR=str(self.root / "data"),
            LOCAL_LLM_PORT=str(self.ports["llm"]),
            TIKTOKEN_CACHE_DIR=str(ROOT / ".data" / "tiktoken"),
        )
        env.update(self.extra_env)
        return env

    def run(self, command: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "runtime", command], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=check)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def base_url(self) -> str:
        return self.url("gateway") + "/v1"

    @property
    def internal(self) -> dict[str, str]:
        """The header the team's own hops carry (the token `make up` made for this stack)."""
        token = (self.root / "run" / "internal_token").read_text().strip()
        return {"authorization": f"Bearer {token}"}

    def rpc(self):
        from supervisor.xmlrpc import SupervisorTransport
        import xmlrpc.client

        transport = SupervisorTransport(None, None, f"unix://{self.root / 'run' / 'supervisor.sock'}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def pid(self, name: str) -> int:
        return self.rpc().getProcessInfo(name)["pid"]

    def log(self, name: str) -> str:
        return (self.root / "run" / "logs" / f"{name}.log").read_text(errors="replace")

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                path = "/health" if name == "llm" else "/ready"  # llama.cpp's readiness is its /health
                if httpx.get(self.url(name) + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{name} not ready after {timeout}s")


def stack_ports(base: int) -> dict[str, int]:
    names = ["gateway", "supervisor", "researcher", "analyst", "writer"]
    ports = {name: base + i for i, name in enumerate(names)}
    ports["llm"] = base + 80
    ports["redis"] = base + 79
    return ports
