"""Backpressure in front of an LLM: calls beyond its slots wait in a bounded queue, and a call that
could not start in time is refused at once (llm_busy, with retry-after), not after a minute."""

import asyncio
import time

import pytest

from agents.llm_gate import LLMGate
from orchestration.protocol import AgentCallError, ErrorInfo

SOON = 60.0  # a deadline far enough away not to matter


async def test_a_call_beyond_the_slots_waits_its_turn_and_then_runs():
    gate = LLMGate("writer", limit=1, queue_limit=4)
    order: list[str] = []
    first_in = asyncio.Event()
    release_first = asyncio.Event()

    async def first():
        async with gate.slot(time.time() + SOON):
            order.append("first starts")
            first_in.set()
            await release_first.wait()
            order.append("first ends")

    async def second():
        await first_in.wait()
        waiting = asyncio.create_task(_enter(gate, order))
        while gate.waiting == 0:  # it queued rather than being refused
            await asyncio.sleep(0)
        assert gate.report()["waiting"] == 1 and gate.report()["running"] == 1
        release_first.set()
        await waiting

    await asyncio.gather(first(), second())
    assert order == ["first starts", "first ends", "second starts"]
    assert gate.running == gate.waiting == 0


async def _enter(gate: LLMGate, order: list[str]) -> None:
    async with gate.slot(time.time() + SOON):
        order.append("second starts")


async def test_a_full_queue_is_refused_at_once_with_retry_after():
    gate = LLMGate("writer", limit=1, queue_limit=0)
    async with gate.slot(time.time() + SOON):
        with pytest.raises(AgentCallError) as refused:
            async with gate.slot(time.time() + SOON):
                pass
    error = refused.value
    assert error.busy and not error.shows_broken and error.retry_after >= 1
    assert ErrorInfo.of(error, "writer").type == "llm_busy"


async def test_a_wait_that_would_outlast_the_deadline_is_refused_at_once():
    gate = LLMGate("writer", limit=1, queue_limit=10)
    gate.mean_seconds = 30.0  # calls hold the slot for half a minute
    async with gate.slot(time.time() + SOON):
        with pytest.raises(AgentCallError) as refused:
            async with gate.slot(time.time() + 5):  # would wait ~30 s for 5 s left
                pass
    assert refused.value.busy and refused.value.retry_after == pytest.approx(30.0)
    assert gate.waiting == 0  # refused before it queued


async def test_a_deadline_that_passes_in_the_queue_is_a_deadline_not_a_broken_agent():
    gate = LLMGate("writer", limit=1, queue_limit=10)
    async with gate.slot(time.time() + SOON):
        with pytest.raises(AgentCallError) as expired:
            async with gate.slot(time.time() + 0.05):  # no estimate yet: it queues, and its deadline passes
                pass
    assert expired.value.deadline and not expired.value.shows_broken
    assert gate.waiting == 0 and gate.running == 0
