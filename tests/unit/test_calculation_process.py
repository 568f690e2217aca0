"""The calculation process: a budget that holds even when one operation holds the GIL."""

import asyncio

from agents.calculation_process import CalculationProcess
from agents.word_problems import Analysis


def power_that_holds_the_gil(text: str) -> Analysis:
    """A big-integer power: minutes of C code holding the GIL (what the calculator refuses up front)."""
    9 ** (10**9)
    return Analysis()


async def test_an_overrun_is_killed_while_the_event_loop_keeps_running():
    process = CalculationProcess(budget_seconds=1.0)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    beat = asyncio.create_task(ticker())
    try:
        refused = await process.run(power_that_holds_the_gil, "9 ** 10 ** 9")
        ticks_during = ticks
        # and the worker that was killed is replaced: the next request is answered
        answered = await process.analyse("What is 15% of 240?", [], [])
    finally:
        beat.cancel()
        process.close()
    assert "budget" in refused.refusals[0].reason
    assert ticks_during > 0  # the loop ran while the worker was busy
    assert [c.value for c in answered.computations] == [36.0]


async def test_follow_ups_read_the_earlier_turns_in_the_worker():
    process = CalculationProcess(budget_seconds=5.0)
    try:
        found = await process.analyse("and to 200?", ["growth from 120 to 150?"], [])
    finally:
        process.close()
    assert [c.label for c in found.computations] == ["growth from 120 to 200"]


def allocation_past_the_memory_limit(text: str) -> Analysis:
    bytearray(2 * 1024**3)
    return Analysis()


async def test_a_computation_past_the_memory_limit_is_refused_and_the_next_is_answered():
    process = CalculationProcess(budget_seconds=5.0)
    try:
        refused = await process.run(allocation_past_the_memory_limit, "a huge table")
        answered = await process.analyse("What is 15% of 240?", [], [])
    finally:
        process.close()
    assert "memory" in refused.refusals[0].reason
    assert [c.value for c in answered.computations] == [36.0]


async def test_a_cancelled_computation_does_not_answer_the_next_request():
    """The cancelled call's late reply must not be read as the next call's: its worker is replaced."""
    process = CalculationProcess(budget_seconds=5.0)
    try:
        slow = asyncio.create_task(process.run(power_that_holds_the_gil, "9 ** 10 ** 9"))
        await asyncio.sleep(0.3)  # the worker has the power in hand
        slow.cancel()
        answered = await process.analyse("What is 15% of 240?", [], [])
    finally:
        process.close()
    assert slow.cancelled()
    assert [c.value for c in answered.computations] == [36.0]
