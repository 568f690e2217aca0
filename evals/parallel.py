"""Eval requests a few at a time, as the embedded model serves them; a stop cancels what has not begun."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

CONCURRENCY = 4  # the embedded model serves four requests at once
Row = TypeVar("Row")
Out = TypeVar("Out")


def in_parallel(function: Callable[[Row], Out], rows: list[Row]) -> list[Out]:
    pool = ThreadPoolExecutor(CONCURRENCY)
    try:
        return list(pool.map(function, rows))
    finally:
        # on a stop (SIGTERM, Ctrl-C) the queued rows are dropped rather than waited for; the ones
        # in flight end when the eval's system goes down
        pool.shutdown(wait=False, cancel_futures=True)
