"""The systems a benchmark (or a load test) runs against: the fake LLM, a whole Chorus system on it,
and LiteLLM's proxy on the same fake upstream. Each is a context manager that stops what it started."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from runtime.isolated import ROOT, Stack, stack_ports

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

    def __init__(self, port: int, tokens: int = 20, delay: float = 0.0):
        self.port, self.tokens, self.delay = port, tokens, delay
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.fake_llm", "--port", str(self.port),
                                         "--tokens", str(self.tokens), "--delay", str(self.delay)], cwd=ROOT)
        wait_for(f"http://127.0.0.1:{self.port}/health", "the fake LLM", timeout=30)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(30)
            self.process = None

    def restart(self, tokens: int, delay: float) -> None:
        self.stop()
        self.tokens, self.delay = tokens, delay
        self.start()

    def __enter__(self) -> FakeLLM:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def chorus_system(base_port: int, extra_env: dict[str, str] | None = None):
    """A whole Chorus system (its own ports, Redis and folders), as `make up` runs it: on the embedded
    model unless extra_env says otherwise."""
    system = Stack(Path(tempfile.mkdtemp(prefix="chorus-bench-")), stack_ports(base_port), extra_env=extra_env or {})
    try:
        started = system.run("up", check=False)
        if started.returncode != 0:
            raise RuntimeError(f"the stack did not start:\n{started.stdout}\n{started.stderr}")
        yield system
    finally:
        system.run("down", check=False)


def chorus_on_fake_llm(base_port: int, extra_env: dict[str, str] | None = None):
    """A whole Chorus system whose agents all call the LLM at base_port + 80, where the caller runs
    the fake LLM (before, since readiness checks it)."""
    llm_port = stack_ports(base_port)["llm"]
    return chorus_system(base_port, {"LLM_BASE_URL": f"http://127.0.0.1:{llm_port}/v1", "LLM_MODEL": "fake-llm",
                                     "EMBEDDED_LLM": "off", **(extra_env or {})})


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
        "      api_key: none\n")
    env = dict(os.environ, LITELLM_MASTER_KEY=BENCH_KEY, LITELLM_LOCAL_MODEL_COST_MAP="True",
               LITELLM_TELEMETRY="False", LITELLM_LOG="ERROR")
    log = open(folder / "litellm.log", "wb")
    process = subprocess.Popen([str(python.parent / "litellm"), "--config", str(config), "--host", "127.0.0.1",
                                "--port", str(port), "--num_workers", "1"],
                               cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
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
