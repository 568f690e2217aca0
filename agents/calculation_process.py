"""Runs the analyst's arithmetic in a child process, under a time and memory budget.

The calculator refuses big powers before computing them, but the only budget that holds whatever a
single operation does (a C-level loop holding the GIL, a regex on hostile text) is a separate
process that can be killed. An overrun worker is killed and a fresh one started, so the analyst's
own event loop, and its /health, never wait on a computation.

The event loop talks to the worker over a pipe it watches itself: no threads between them. (A pool
library with threads of its own did this job before; their hand-offs cost CPU on every computation,
on the team's critical path.)
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, cast

from agents.calculator import Refusal
from agents.reading import read_request
from agents.word_problems import Analysis

log = logging.getLogger(__name__)
MEMORY_LIMIT_BYTES = 512 * 1024 * 1024
OUT_OF_MEMORY = "MemoryError"
# forkserver: a worker starts from a clean interpreter, not a copy of a threaded server
CONTEXT = multiprocessing.get_context("forkserver")
# the fork server loads the reader (and pint's unit registry, ~1 s) once: a fresh worker is ready at once
CONTEXT.set_forkserver_preload([__name__])


def _serve(connection: Connection) -> None:
    """The worker: computes what it is sent, one call at a time, until the pipe closes."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    while True:
        try:
            function, args = connection.recv()
        except EOFError:
            return
        try:
            reply = (True, function(*args))
        except MemoryError:
            reply = (False, OUT_OF_MEMORY)
        except Exception as error:  # as text: an exception object may not survive the pipe
            reply = (False, f"{type(error).__name__}: {error}")
        connection.send(reply)


class _Worker:
    def __init__(self) -> None:
        self.connection, child = CONTEXT.Pipe()
        self.process = CONTEXT.Process(target=_serve, args=(child,), daemon=True, name="calculation")
        self.process.start()
        child.close()

    async def call(self, function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any]:
        """(True, function(*args)) or (False, what it raised, as text), from the worker; EOFError
        or OSError if the worker died."""
        loop = asyncio.get_running_loop()
        self.connection.send((function, args))  # the worker is idle (one call at a time): it reads at once
        readable = loop.create_future()
        loop.add_reader(self.connection.fileno(), lambda: None if readable.done() else readable.set_result(None))
        try:
            await readable
        finally:
            loop.remove_reader(self.connection.fileno())
        reply: tuple[bool, Any] = self.connection.recv()  # readable: the worker wrote its whole reply, or died
        return reply

    def stop(self) -> None:
        self.connection.close()
        self.process.kill()
        self.process.join(5)


class CalculationProcess:
    def __init__(self, budget_seconds: float):
        self.budget = budget_seconds
        self.worker = _Worker()  # the first start also starts the fork server (~50 ms): before serving
        self.turn = asyncio.Lock()  # one computation at a time; the budget counts from its start

    async def analyse(self, text: str, earlier: list[str], findings: list[str]) -> Analysis:
        return await self.run(read_request, text, earlier, findings)

    async def run(self, function: Callable[..., Analysis], *args: Any) -> Analysis:
        """function(*args) in the worker; a refusal if it overruns the budget or the memory."""
        text = next((a for a in args if isinstance(a, str)), "")
        async with self.turn:
            try:
                async with asyncio.timeout(self.budget):
                    ok, value = await self.worker.call(function, args)
            except TimeoutError:
                self._replace()  # still computing: only a kill stops it
                return _refused(text, f"it took longer than the calculator's budget of {self.budget:g} s")
            except (EOFError, OSError):  # the worker died, past its memory limit or worse
                self._replace()
                return _refused(text, "it needed more memory than the calculator allows")
            except BaseException:  # cancelled: its reply would be read as the next call's
                self._replace()
                raise
        if ok:
            return cast(Analysis, value)
        if value == OUT_OF_MEMORY:
            return _refused(text, "it needed more memory than the calculator allows")
        # a fault in the reading of one request must not fail the others
        log.error("the calculation process failed: %s", value)
        return _refused(text, "the calculator could not read it")

    def _replace(self) -> None:
        """A fresh worker for the next computation (~1 ms: the fork server is already up)."""
        self.worker.stop()
        self.worker = _Worker()

    def close(self) -> None:
        self.worker.stop()


def _refused(text: str, reason: str) -> Analysis:
    return Analysis(refusals=[Refusal(_short(text), reason)])


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."
