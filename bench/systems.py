"""The systems the tests, the evals and the benchmark run against: a whole Chorus system started by
the real launcher on ports and folders of its own, the fake LLM, and LiteLLM's proxy on the same fake
upstream. Each is a context manager that stops what it started."""

from __future__ import annotations

import itertools
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    """A whole Chorus system started by the real launcher, on its own ports and folders."""

    root: Path
    ports: dict[str, int]
    extra_env: dict[str, str] = field(default_factory=dict)
    llm: FakeLLM | None = None  # the fake LLM it runs on, if it does

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_PORT", "_URL"))}
        env.update({f"{name.upper()}_PORT": str(port) for name, port in self.ports.items() if name != "redis"})
        env.update(
            REDIS_URL=f"redis://127.0.0.1:{self.ports['redis']}/0",
            RUN_DIR=str(self.root / "run"),
            DATA_DIR=str(self.root / "data"),
            LOCAL_LLM_PORT=str(self.ports["llm"]),
            TIKTOKEN_CACHE_DIR=str(ROOT / ".data" / "tiktoken"),
        )
        env.update(self.extra_env)
        return env

    def run(self, command: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "runtime", command],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

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
        import xmlrpc.client

        from supervisor.xmlrpc import SupervisorTransport

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


STACK_PARTS = ("gateway", "supervisor", "researcher", "analyst", "writer", "llm", "redis")
PORT_BLOCK = 2000  # ports for each pytest-xdist worker, from PORTS_FROM on
PORTS_FROM = 16000  # below the range Linux hands out for outgoing connections (32768 on), so that no
# client's socket takes a port between the check that it is free and the bind of its server
_port_cycles: dict[int, Iterator[int]] = {}


def free_ports(names: Iterable[str] = STACK_PARTS) -> dict[str, int]:
    """A free port for each name, from a block of its own for each pytest-xdist worker, so that
    systems started side by side never meet on a port."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...; empty: not under xdist
    block = int(worker[2:]) + 1 if worker[2:].isdigit() else 0
    low = PORTS_FROM + block * PORT_BLOCK
    ports = _port_cycles.setdefault(
        block,
        itertools.cycle(
            [*range(low + (start := random.randrange(PORT_BLOCK)), low + PORT_BLOCK), *range(low, low + start)]
        ),
    )
    found: dict[str, int] = {}
    for name in names:
        for _ in range(PORT_BLOCK):
            port = next(ports)
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            found[name] = port
            break
        else:
            raise RuntimeError(f"no free port from {low} to {low + PORT_BLOCK}")
    return found


LITELLM_VERSION = "1.106.2"
LITELLM_VENV = ROOT / ".data" / "bench" / "litellm"
BENCH_KEY = "sk-bench-0123456789abcdef"  # both gateways check a key, as they would in use


def wait_for(url: str, what: str, timeout: float = 120, headers: dict | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s")


class FakeLLM:
    """bench/fake_llm.py on a port: `tokens` words per answer, `delay` seconds apart. `restart` changes
    them under a running system (its agents keep the same URL)."""

    def __init__(self, port: int | None = None, tokens: int = 20, delay: float = 0.0, module: str = "bench.fake_llm"):
        self.port, self.tokens, self.delay = port or free_ports(["llm"])["llm"], tokens, delay
        self.module = module  # bench.capable_model: the scripted stand-in for a capable model
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                self.module,
                "--port",
                str(self.port),
                "--tokens",
                str(self.tokens),
                "--delay",
                str(self.delay),
            ],
            cwd=ROOT,
        )
        wait_for(f"http://127.0.0.1:{self.port}/health", "the fake LLM", timeout=30)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(30)
            self.process = None

    def script(self, **script: Any) -> None:
        """What the stand-in for a capable model answers to a request containing `when` (see its module)."""
        httpx.post(f"http://127.0.0.1:{self.port}/fake/script", json=script, timeout=10).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        """What the fake was asked, most recent last (GET /fake/requests)."""
        return httpx.get(f"http://127.0.0.1:{self.port}/fake/requests", timeout=10).json()

    def restart(self, tokens: int, delay: float) -> None:
        self.stop()
        self.tokens, self.delay = tokens, delay
        self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def chorus_system(extra_env: dict[str, str] | None = None, ports: dict[str, int] | None = None):
    """A whole Chorus system (its own ports, Redis and folders), as `make up` runs it: on the embedded
    model unless extra_env says otherwise."""
    system = Stack(Path(tempfile.mkdtemp(prefix="chorus-")), ports or free_ports(), extra_env=extra_env or {})
    try:
        started = system.run("up", check=False)
        if started.returncode != 0:
            raise RuntimeError(f"the stack did not start:\n{started.stdout}\n{started.stderr}")
        yield system
    finally:
        system.run("down", check=False)


def chorus_on_fake_llm(llm_url: str, extra_env: dict[str, str] | None = None):
    """A whole Chorus system whose agents all call the (fake) LLM at `llm_url`, which the caller
    starts first, since readiness checks it."""
    return chorus_system({"LLM_BASE_URL": llm_url, "LLM_MODEL": "fake-llm", "EMBEDDED_LLM": "off", **(extra_env or {})})


@contextmanager
def chorus_on_a_fake_in_the_models_place(tokens: int = 24, delay: float = 0.0, extra_env: dict[str, str] | None = None):
    """A whole Chorus system with the fake LLM where the embedded model would be (its port, with the
    embedded model not started): the team runs exactly as on the embedded model (rules plan, the
    calculator computes, answers of fact are composed), and only the model's own words are the fake's.
    The wire contract and the team's mechanics are tested on it. The fake is `system.llm`."""
    ports = free_ports()
    with (
        FakeLLM(ports["llm"], tokens, delay) as llm,
        chorus_system({"EMBEDDED_LLM": "off", **(extra_env or {})}, ports=ports) as system,
    ):
        system.llm = llm
        yield system


@contextmanager
def chorus_on_a_capable_stand_in(capability: str = "auto", extra_env: dict[str, str] | None = None):
    """A whole Chorus system on the scripted stand-in for a capable model (bench/capable_model.py), at an
    endpoint of its own: `auto` runs the capable profile, as for any model but the embedded one;
    `basic` forces the rules. The stand-in is `system.llm`; `system.llm.script(...)` scripts it."""
    with (
        FakeLLM(module="bench.capable_model") as llm,
        chorus_on_fake_llm(llm.url, {"LLM_CAPABILITY": capability, **(extra_env or {})}) as system,
    ):
        system.llm = llm
        yield system


def install_litellm() -> Path:
    """LiteLLM's proxy in a virtualenv of its own (its pins are not ours); returns its python."""
    return venv_of_its_own(LITELLM_VENV, [f"litellm[proxy]=={LITELLM_VERSION}"])


def venv_of_its_own(folder: Path, requirements: list[str]) -> Path:
    """A virtualenv with only `requirements`, made once (uv, from the package registry); its python."""
    python = folder / "bin" / "python"
    marker = folder / (".installed-" + "-".join(r.replace("[", "_").replace("]", "_") for r in requirements))
    if not marker.exists():
        uv = ROOT / ".tools" / "bin" / "uv"
        subprocess.run([str(uv), "venv", "-q", "--python", "python3", str(folder)], check=True)
        subprocess.run([str(uv), "pip", "install", "-q", "--python", str(python), *requirements], check=True)
        marker.touch()
    return python


@contextmanager
def litellm_proxy(port: int, upstream: str, model: str = "fake-llm"):
    """LiteLLM's proxy, one worker, routing `model` to the OpenAI-compatible upstream."""
    python = install_litellm()
    folder = Path(tempfile.mkdtemp(prefix="litellm-bench-"))
    config = folder / "config.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {model}\n"
        "    litellm_params:\n"
        f"      model: openai/{model}\n"
        f"      api_base: {upstream}\n"
        "      api_key: none\n"
    )
    env = dict(
        os.environ,
        LITELLM_MASTER_KEY=BENCH_KEY,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_TELEMETRY="False",
        LITELLM_LOG="ERROR",
    )
    log = open(folder / "litellm.log", "wb")
    process = subprocess.Popen(
        [
            str(python.parent / "litellm"),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            "1",
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health/liveliness", "LiteLLM's proxy", timeout=180)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def rss_kib(pid: int) -> tuple[int, int]:
    """(resident now, peak resident) of a process, in KiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
