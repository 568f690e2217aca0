"""Backpressure in front of an agent's LLM: at most `limit` calls at once, the rest in a bounded queue.

An LLM serves a few generations at once (the embedded model: its slots); more only queue inside it,
where nothing can see them and each waits out the socket. Here the wait is visible and bounded. A
call that cannot start before its request's deadline, or that finds the queue full, is refused at
once with `llm_busy` and a retry-after (the client gets a 503), instead of failing a minute later.
Hand-written: it needs the request's own deadline and a wait estimate, which a plain semaphore lacks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from orchestration.metrics import LLM_RUNNING, LLM_WAITING
from orchestration.protocol import AgentCallError

SMOOTHING = 0.2  # the weight of the newest call in the mean call time


class LLMGate:
    def __init__(self, agent: str, limit: int, queue_limit: int):
        self.agent = agent
        self.limit, self.queue_limit = limit, queue_limit
        self.running = self.waiting = 0
        self.mean_seconds: float | None = None  # how long a call holds its slot, smoothed
        self._slots = asyncio.Semaphore(limit)

    def expected_wait(self) -> float:
        """Seconds a call arriving now would wait for a slot, from the calls ahead of it."""
        if self.running + self.waiting < self.limit or self.mean_seconds is None:
            return 0.0
        return (self.waiting + 1) / self.limit * self.mean_seconds

    def report(self) -> dict[str, float | int]:
        return {
            "running": self.running,
            "waiting": self.waiting,
            "limit": self.limit,
            "queue_limit": self.queue_limit,
            "expected_wait_seconds": round(self.expected_wait(), 1),
        }

    @asynccontextmanager
    async def slot(self, deadline: float) -> AsyncIterator[None]:
        """Hold one of the LLM's slots for a call; refused at once when it could not start in time."""
        left = deadline - time.time()
        expected = self.expected_wait()
        if self.running >= self.limit and (self.waiting >= self.queue_limit or expected >= left):
            raise busy(self.agent, max(expected, 1.0))
        self.waiting += 1
        LLM_WAITING.labels(self.agent).set(self.waiting)
        try:
            async with asyncio.timeout(max(left, 0.0)):
                await self._slots.acquire()
        except TimeoutError:
            raise AgentCallError("the request's deadline passed while waiting for the LLM", deadline=True) from None
        finally:
            self.waiting -= 1
            LLM_WAITING.labels(self.agent).set(self.waiting)
        self.running += 1
        LLM_RUNNING.labels(self.agent).set(self.running)
        started = time.monotonic()
        try:
            yield
        finally:
            self.running -= 1
            LLM_RUNNING.labels(self.agent).set(self.running)
            self._slots.release()
            took = time.monotonic() - started
            self.mean_seconds = (
                took if self.mean_seconds is None else (1 - SMOOTHING) * self.mean_seconds + SMOOTHING * took
            )


def busy(agent: str, retry_after: float) -> AgentCallError:
    return AgentCallError(
        f"the {agent}'s LLM is busy: all its slots are taken and its queue is full, or the "
        f"wait would outlast the request's deadline",
        busy=True,
        retry_after=retry_after,
    )
