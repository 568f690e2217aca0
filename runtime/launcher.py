"""`make up`, `make down`, `make status`: the system's processes under supervisord.

supervisord (a well-kept process manager) runs detached, restarts a crashed process at once,
keeps one log per process and stops its children by PID. This module writes its config from the
settings, starts it, waits for every process to answer its readiness check and reports.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

import httpx
import redis

from config import PROJECT_ROOT, Settings, load_settings
from config.team import TeamFileError
from runtime import tiktoken_cache
from runtime.processes import ProcessSpec, log_path, process_specs

READY_TIMEOUT_SECONDS = 240.0


class Supervisord:
    """The supervisord instance that belongs to one run directory."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.run_dir = settings.resolve(settings.run_dir)
        self.conf = self.run_dir / "supervisord.conf"
        self.pidfile = self.run_dir / "supervisord.pid"
        self.socket = self.run_dir / "supervisor.sock"

    # --- lifecycle ---
    def pid(self) -> int | None:
        """supervisord's PID, if the pidfile names a live supervisord started with our config."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return None
        return pid if "supervisord" in cmdline and str(self.conf) in cmdline else None

    def write_conf(self, specs: list[ProcessSpec]) -> bool:
        """Write the config; True when it changed."""
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        text = self.render(specs)
        if self.conf.exists() and self.conf.read_text() == text:
            return False
        self.conf.write_text(text)
        return True

    def render(self, specs: list[ProcessSpec]) -> str:
        lines = [
            "[unix_http_server]",
            f"file={self.socket}",
            "chmod=0700",
            "",
            "[supervisord]",
            f"pidfile={self.pidfile}",
            f"logfile={self.run_dir / 'logs' / 'supervisord.log'}",
            f"directory={PROJECT_ROOT}",
            "nodaemon=false",
            "minfds=4096",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]",
            f"serverurl=unix://{self.socket}",
            "",
        ]
        for priority, spec in enumerate(specs, start=1):
            lines += [
                f"[program:{spec.name}]",
                "command=" + " ".join(shlex.quote(part) for part in spec.command).replace("%", "%%"),
                f"directory={PROJECT_ROOT}",
                f"priority={priority * 10}",
                "autostart=true",
                "autorestart=true",  # a crashed server comes back at once
                "startsecs=1",
                "startretries=5",
                "stopsignal=TERM",
                f"stopwaitsecs={stop_wait_seconds(self.settings)}",
                "stopasgroup=true",
                "killasgroup=true",
                "redirect_stderr=true",
                f"stdout_logfile={log_path(self.settings, spec.name)}",
                "stdout_logfile_maxbytes=20MB",
                "stdout_logfile_backups=2",
                "",
            ]
        return "\n".join(lines)

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)],
            check=True,
            cwd=PROJECT_ROOT,
            env=env,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.rpc().getState()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("supervisord did not start; see " + str(self.run_dir / "logs"))

    def rpc(self):
        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def processes(self) -> dict[str, dict]:
        return {info["name"]: info for info in self.rpc().getAllProcessInfo()}

    def shutdown(self) -> bool:
        """Stop supervisord and, through it, every process it started. False if none was running."""
        pid = self.pid()
        if pid is None:
            return False
        try:
            self.rpc().shutdown()
        except (OSError, xmlrpc.client.Fault):
            os.kill(pid, signal.SIGTERM)
        # in-flight streams get their grace (the gateway first); idle processes exit at once
        deadline = time.monotonic() + 2 * stop_wait_seconds(self.settings) + 30
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.1)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
        return True


def stop_wait_seconds(settings: Settings) -> int:
    """How long supervisord waits after SIGTERM before SIGKILL: the servers' grace, and a margin.
    It stops the processes in reverse start order, so the gateway finishes its streams while the
    team behind it is still up."""
    return int(settings.shutdown_grace_seconds) + 10


# --- checks ---
def is_ready(settings: Settings, spec: ProcessSpec, timeout: float = 2.0) -> tuple[bool, str]:
    if spec.ready_url is None:
        try:
            redis.Redis.from_url(settings.redis_url, socket_timeout=timeout).ping()
            return True, "PONG"
        except redis.RedisError as error:
            return False, str(error)
    return http_check(spec.ready_url, timeout)


def is_alive(settings: Settings, spec: ProcessSpec) -> tuple[bool, str]:
    if spec.health_url is None:
        return is_ready(settings, spec)
    return http_check(spec.health_url, 2.0)


def http_check(url: str, timeout: float) -> tuple[bool, str]:
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as error:
        return False, type(error).__name__
    return response.status_code == 200, f"HTTP {response.status_code}"


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def listen_address(spec: ProcessSpec) -> str:
    if spec.name == "redis":
        return f"redis://127.0.0.1:{spec.port}"
    return f"http://127.0.0.1:{spec.port}"


# --- commands ---
def prepare(settings: Settings) -> None:
    """What every process needs before it starts: folders and tiktoken's offline cache."""
    settings.resolve(settings.data_dir).mkdir(parents=True, exist_ok=True)
    tiktoken_cache.seed(settings.resolve(settings.data_dir) / "tiktoken")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(settings.resolve(settings.data_dir) / "tiktoken")


def internal_token(settings: Settings) -> str:
    """INTERNAL_TOKEN, or the token `make up` made once and keeps in the run folder (mode 0600)."""
    configured = settings.internal_token.get_secret_value()
    if configured:
        return configured
    path = settings.resolve(settings.run_dir) / "internal_token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def up(settings: Settings) -> int:
    try:  # a team file that is wrong starts nothing: the error names its line
        settings.team()
    except TeamFileError as error:
        print(f"the team file is wrong, so nothing was started: {error}", file=sys.stderr)
        return 1
    prepare(settings)
    os.environ["INTERNAL_TOKEN"] = internal_token(settings)  # every process inherits it from supervisord
    specs = process_specs(settings)
    supervisord = Supervisord(settings)
    changed = supervisord.write_conf(specs)
    if supervisord.pid() is not None and changed:
        print("settings changed: restarting every process")
        supervisord.shutdown()
    if supervisord.pid() is None:
        busy = [spec for spec in specs if port_in_use(spec.port)]
        if busy:
            for spec in busy:
                print(f"port {spec.port} (for {spec.name}) is already in use by another program", file=sys.stderr)
            return 1
        supervisord.start()
    else:
        supervisord.rpc().startAllProcesses(True)

    failed = wait_until_ready(settings, supervisord, specs)
    if failed:
        spec, why = failed
        print(f"\n{spec.name} failed to become ready: {why}", file=sys.stderr)
        print(f"--- last lines of {log_path(settings, spec.name)} ---", file=sys.stderr)
        print(tail(log_path(settings, spec.name)), file=sys.stderr)
        supervisord.shutdown()
        return 1
    print("\nChorus is up:")
    for spec in specs:
        print(f"  {spec.name:<11} {listen_address(spec)}")
    print(f"\nOpenAI base URL: http://127.0.0.1:{settings.gateway_port}/v1   (logs: make logs)")
    return 0


def wait_until_ready(
    settings: Settings, supervisord: Supervisord, specs: list[ProcessSpec]
) -> tuple[ProcessSpec, str] | None:
    """Wait for each process in start order; the first one that cannot get ready is returned."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    for spec in specs:
        started = time.monotonic()
        while True:
            state = supervisord.processes().get(spec.name, {})
            if state.get("statename") in {"FATAL", "EXITED", "STOPPED"}:
                return spec, f"process {state.get('statename')}: {state.get('spawnerr') or 'exited'}"
            ok, why = is_ready(settings, spec)
            if ok:
                print(
                    f"  ready  {spec.name:<11} pid {state.get('pid')}  ({time.monotonic() - started:.1f}s)", flush=True
                )
                break
            if time.monotonic() > deadline:
                return spec, f"not ready after {READY_TIMEOUT_SECONDS:.0f}s ({why})"
            time.sleep(0.2)
    return None


def down(settings: Settings) -> int:
    if Supervisord(settings).shutdown():
        print("Chorus stopped.")
    else:
        print("Chorus is not running.")
    return 0


def status(settings: Settings) -> int:
    supervisord = Supervisord(settings)
    if supervisord.pid() is None:
        print("Chorus is not running.")
        return 1
    processes = supervisord.processes()
    all_healthy = True
    print(f"{'process':<11} {'pid':>7}  {'state':<9} {'port':>5}  health")
    for spec in process_specs(settings):
        info = processes.get(spec.name, {})
        alive, why = is_alive(settings, spec)
        ready, _ = is_ready(settings, spec) if alive else (False, "")
        health = "ready" if ready else ("alive, not ready" if alive else f"down ({why})")
        all_healthy &= ready
        print(f"{spec.name:<11} {info.get('pid') or '-':>7}  {info.get('statename', '?'):<9} {spec.port:>5}  {health}")
    return 0 if all_healthy else 1


def index(settings: Settings) -> int:
    """`make index`: the researcher's index brought up to date with KNOWLEDGE_DIR (the files that changed
    are read again), as the researcher does at start-up."""
    from agents.knowledge import KnowledgeBase, knowledge_store

    folder = settings.resolve(settings.knowledge_dir)
    _, report = KnowledgeBase.load(folder, knowledge_store(settings))
    print(f"{folder}: {report}")
    for skipped in report.skipped:
        print(f"  could not read {skipped}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "prepare", "index"])
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "prepare":
        prepare(settings)
        return 0
    if args.command == "index":
        return index(settings)
    return {"up": up, "down": down, "status": status}[args.command](settings)
