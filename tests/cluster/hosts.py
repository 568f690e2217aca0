"""Simulated hosts on one machine: a network namespace each, joined by a bridge in a namespace of
its own, so that all their traffic stays inside namespaces this module creates (and removes).

Needs root (ip netns). A process runs on a host through `ip netns exec`; the calling thread itself
can step onto a host (`Hosts.entered`) to be a client there.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field

CLONE_NEWNET = 0x40000000
SUBNET = "10.77.0"


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass
class Hosts:
    names: dict[str, int]  # host name -> last byte of its address
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000}")
    created: list[str] = field(default_factory=list)

    def namespace(self, host: str) -> str:
        return f"chorus{self.tag}-{host}"

    def address(self, host: str) -> str:
        return f"{SUBNET}.{self.names[host]}"

    def prefix(self, host: str) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.namespace(host))

    def create(self) -> Hosts:
        switch = self.namespace("switch")
        ip("netns", "add", switch)
        self.created.append(switch)
        ip("-n", switch, "link", "add", "bridge0", "type", "bridge")
        ip("-n", switch, "link", "set", "bridge0", "up")
        for index, host in enumerate(self.names):
            ns = self.namespace(host)
            ip("netns", "add", ns)
            self.created.append(ns)
            inside, outside = f"cv{self.tag}h{index}", f"cv{self.tag}s{index}"  # created in the root namespace,
            ip("link", "add", inside, "type", "veth", "peer", "name", outside)  # then moved at once
            ip("link", "set", inside, "netns", ns)
            ip("link", "set", outside, "netns", switch)
            ip("-n", ns, "link", "set", inside, "name", "eth0")
            ip("-n", ns, "addr", "add", f"{self.address(host)}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", switch, "link", "set", outside, "master", "bridge0")
            ip("-n", switch, "link", "set", outside, "up")
        return self

    def remove(self) -> None:
        """Deleting a namespace deletes its end of each veth, and so the pair and the bridge's ports."""
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.created.clear()

    @contextmanager
    def entered(self, host: str):
        """The calling thread on `host`: the sockets it opens meanwhile are that host's."""
        libc = ctypes.CDLL(None, use_errno=True)
        home = os.open(f"/proc/{os.getpid()}/task/{ctypes.CDLL(None).gettid()}/ns/net", os.O_RDONLY)
        there = os.open(f"/var/run/netns/{self.namespace(host)}", os.O_RDONLY)
        try:
            if libc.setns(there, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            yield
        finally:
            libc.setns(home, CLONE_NEWNET)
            os.close(there)
            os.close(home)


def left_behind(tag: str) -> list[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in listed.splitlines() if line.startswith(f"chorus{tag}-")]
