"""A circuit breaker for each agent: one that keeps failing is skipped for a cool-down.

Skipping answers at once (the team degrades) instead of spending the request's time on an agent
that is down. Only signs of a broken agent count: a refused or reset connection, or a 5xx. An agent
that was only slow for the request's deadline (busy, queued) is not broken, so a busy spell does
not become everyone's outage. After the cool-down exactly one call goes through (half-open); its
success closes the circuit, its failure opens it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class Circuit:
    failures_to_open: int
    cooldown_seconds: float
    failures: int = 0  # in a row
    opened_at: float | None = None
    probing: bool = False  # the one test call of the half-open state is under way

    def allows(self, now: float | None = None) -> bool:
        """Closed; or open long enough, and no test call under way, so this one tests the agent."""
        if self.opened_at is None:
            return True
        if self.probing or (now or time.monotonic()) - self.opened_at < self.cooldown_seconds:
            return False
        self.probing = True
        return True

    def record(self, ok: bool, now: float | None = None) -> None:
        self.probing = False
        if ok:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.failures >= self.failures_to_open:
            self.opened_at = now or time.monotonic()  # (re)opened: a failed test call restarts the cool-down

    def trip(self, now: float | None = None) -> None:
        """Open now: the agent is known to be down (unreachable at start-up); a call after the cool-down tests it."""
        self.failures, self.opened_at = max(self.failures, self.failures_to_open), now or time.monotonic()

    def release(self) -> None:
        """A call that neither proved nor disproved the agent (its deadline passed): the next may test it."""
        self.probing = False

    def seconds_closed_in(self, now: float | None = None) -> float:
        """How long until a call may test the agent again (0 when one may now)."""
        if self.opened_at is None:
            return 0.0
        return max(self.cooldown_seconds - ((now or time.monotonic()) - self.opened_at), 0.0)

    def state(self, now: float | None = None) -> str:
        if self.opened_at is None:
            return "closed"
        left = self.cooldown_seconds - ((now or time.monotonic()) - self.opened_at)
        if left <= 0:
            testing = "a call is testing it" if self.probing else "the next call tests it"
            return f"half-open: {testing} ({self.failures} failures in a row)"
        return f"open: skipped for {left:.0f}s more after {self.failures} failures in a row"


class Circuits:
    """One circuit per agent name."""

    def __init__(self, names: tuple[str, ...], failures_to_open: int, cooldown_seconds: float):
        self.by_name = {name: Circuit(failures_to_open, cooldown_seconds) for name in names}

    def __getitem__(self, name: str) -> Circuit:
        return self.by_name[name]

    def report(self) -> dict[str, str]:
        return {name: circuit.state() for name, circuit in self.by_name.items()}
