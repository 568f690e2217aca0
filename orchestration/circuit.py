"""A circuit breaker for each agent: one that keeps failing is skipped for a cool-down.

Skipping answers at once (the team degrades) instead of spending the request's time on an agent
that is down. After the cool-down one call goes through; its success closes the circuit.
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

    def allows(self, now: float | None = None) -> bool:
        """Closed, or open long enough that one call may test the agent again."""
        if self.opened_at is None:
            return True
        return (now or time.monotonic()) - self.opened_at >= self.cooldown_seconds

    def record(self, ok: bool, now: float | None = None) -> None:
        if ok:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.failures >= self.failures_to_open:
            self.opened_at = now or time.monotonic()  # (re)opened: a failed test call restarts the cool-down

    def state(self, now: float | None = None) -> str:
        if self.opened_at is None:
            return "closed"
        left = self.cooldown_seconds - ((now or time.monotonic()) - self.opened_at)
        if left <= 0:
            return f"half-open: the next call tests it ({self.failures} failures in a row)"
        return f"open: skipped for {left:.0f}s more after {self.failures} failures in a row"


class Circuits:
    """One circuit per agent name."""

    def __init__(self, names: tuple[str, ...], failures_to_open: int, cooldown_seconds: float):
        self.by_name = {name: Circuit(failures_to_open, cooldown_seconds) for name in names}

    def __getitem__(self, name: str) -> Circuit:
        return self.by_name[name]

    def report(self) -> dict[str, str]:
        return {name: circuit.state() for name, circuit in self.by_name.items()}
