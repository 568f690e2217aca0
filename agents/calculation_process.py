"""Runs the analyst's arithmetic in a child process, under a time and memory budget.

The calculator refuses big powers before computing them, but the only budget that holds whatever a
single operation does (a C-level loop holding the GIL, a regex on hostile text) is a separate
process that can be killed. pebble's pool kills a worker that overruns and starts a fresh one, so
the analyst's own event loop, and its /health, never wait on a computation.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import resource
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pebble import ProcessPool
from pebble.common import ProcessExpired

from agents.calculator import Refusal
from agents.word_problems import Analysis, analyse, follow_up

log = logging.getLogger(__name__)
MEMORY_LIMIT_BYTES = 512 * 1024 * 1024


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _analyse_request(text: str, earlier: list[str], findings: list[str]) -> Analysis:
    """The request first; a follow-up ("and to 200?") reads the earlier turns; then the findings."""
    found = analyse(text)
    if found:
        return found
    found = follow_up(text, earlier)
    if found:
        return found
    return analyse("\n".join(findings)) if findings else found


class CalculationProcess:
    def __init__(self, budget_seconds: float, workers: int = 1):
        self.budget = budget_seconds
        # forkserver: the worker starts from a clean interpreter, not a copy of a threaded server
        self.pool = ProcessPool(max_workers=workers, initializer=_limit_memory,
                                context=multiprocessing.get_context("forkserver"))

    async def analyse(self, text: str, earlier: list[str], findings: list[str]) -> Analysis:
        return await self.run(_analyse_request, text, earlier, findings)

    async def run(self, function: Callable[..., Analysis], *args: Any) -> Analysis:
        """function(*args) in the worker; a refusal if it overruns the budget or the memory."""
        text = next((a for a in args if isinstance(a, str)), "")
        future = self.pool.schedule(function, args=args, timeout=self.budget)
        try:
            return await asyncio.wrap_future(future)
        except (FutureTimeout, TimeoutError):
            reason = f"it took longer than the calculator's budget of {self.budget:g} s"
        except (MemoryError, ProcessExpired):
            reason = "it needed more memory than the calculator allows"
        except Exception:  # a fault in the reading of one request must not fail the others
            log.exception("the calculation process failed")
            reason = "the calculator could not read it"
        return Analysis(refusals=[Refusal(_short(text), reason)])

    def close(self) -> None:
        self.pool.stop()
        self.pool.join(timeout=5)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."
