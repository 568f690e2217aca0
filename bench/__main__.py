"""`make bench`: what Chorus adds to an LLM, beside LiteLLM's proxy, measured in one run.

Starts its own systems on free ports: the fake LLM, a whole Chorus system on it,
LiteLLM's proxy on the same fake upstream, and last a Chorus system on the embedded model. Prints
one table and writes it, with the machine and the command, to bench/RESULTS.md.

    python -m bench                 # all nine figures
    python -m bench --only 1,2      # some of them (no RESULTS.md)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import knowledge, load
from bench.systems import BENCH_KEY, FakeLLM, chorus_on_fake_llm, chorus_system, free_ports, litellm_proxy, rss_kib

RESULTS = Path(__file__).with_name("RESULTS.md")
AUTH = {"authorization": f"Bearer {BENCH_KEY}"}
TEAM_QUESTION = "Research what the docs say about Redis and compute the growth from 120 to 150."
SMALL_TALK = "Hello! How are you today?"
# A voice call as Vapi's custom LLM sends it: {base}/chat/completions (no /v1), its own objects beside
# the messages, a spoken question, then a follow-up in the same call.
VOICE_TURNS = [
    "What do the docs say about Redis, and what is the growth from 120 to 150?",
    "Thanks. And what is 15% of 240?",
]
VOICE_CALLS = 3
SEQUENTIAL = 500
SATURATION_REQUESTS, SATURATION_CONCURRENCY = 2000, 32
STREAMS, STREAM_TOKENS, STREAM_DELAY = 1000, 20, 0.05
RELAY_TOKENS, RELAY_DELAY, RELAY_ROUNDS = 50, 0.01, 30
MEMORY_REQUESTS, WARM_UP = 20000, 2000
PROCESSES = ["gateway", "supervisor", "researcher", "analyst", "writer"]
ALL_FIGURES = range(1, 10)
KNOWLEDGE_DOCUMENTS = 10_000
KNOWLEDGE_RESTART_GOAL_SECONDS = 10.0


@dataclass
class Row:
    figure: str
    chorus: str
    litellm: str
    goal: str
    met: bool | None

    def cells(self) -> list[str]:
        verdict = {True: "met", False: "**not met**", None: "-"}[self.met]
        return [self.figure, self.chorus, self.litellm, self.goal, verdict]


def chat(model: str, question: str, **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": question}], **extra}


class Bench:
    def __init__(self, only: set[int]):
        self.only = only
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def wants(self, *figures: int) -> bool:
        return any(f in self.only for f in figures)

    def add(self, *row) -> None:
        self.rows.append(Row(*row))
        print(" | ".join(self.rows[-1].cells()), flush=True)

    async def on_instant_llm(self, system, llm: str, litellm: str) -> None:
        gateway = system.base_url + "/chat/completions"
        direct_body = chat("fake-llm", SMALL_TALK)
        await load.requests(llm, direct_body, 50)  # warm every path up
        await load.requests(litellm, direct_body, 50, headers=AUTH)
        await load.requests(gateway, chat("chorus", TEAM_QUESTION), 50, headers=AUTH)
        await load.requests(gateway, chat("chorus-writer", SMALL_TALK), 50, headers=AUTH)
        direct = await load.requests(llm, direct_body, SEQUENTIAL)
        lite = await load.requests(litellm, direct_body, SEQUENTIAL, headers=AUTH)
        lite_added = lite.p50 - direct.p50
        self.notes.append(f"Direct call to the fake LLM: p50 {direct.p50:.1f} ms, p99 {direct.p99:.1f} ms.")
        if self.wants(1):
            team = await load.requests(gateway, chat("chorus", TEAM_QUESTION), SEQUENTIAL, headers=AUTH)
            added = team.p50 - direct.p50
            self.add(
                f"1. Whole team, {SEQUENTIAL} sequential requests, added to a direct call (p50 / p99)",
                f"+{added:.1f} ms / {team.p99:.1f} ms (errors {team.errors}; says it added "
                f"{_median(team.overhead_ms):.1f} ms)",
                f"+{lite_added:.1f} ms / {lite.p99:.1f} ms (one hop)",
                "p50 added <= LiteLLM's and <= 15 ms",
                team.errors == 0 and added <= min(lite_added, 15),
            )
        if self.wants(2):
            hop = await load.requests(gateway, chat("chorus-writer", SMALL_TALK), SEQUENTIAL, headers=AUTH)
            added = hop.p50 - direct.p50
            self.add(
                f"2. One agent (`chorus-writer`), {SEQUENTIAL} sequential requests, added (p50 / p99)",
                f"+{added:.1f} ms / {hop.p99:.1f} ms (errors {hop.errors})",
                f"+{lite_added:.1f} ms / {lite.p99:.1f} ms",
                "below LiteLLM's p50 and p99; aim <= 5 ms",
                hop.errors == 0 and added < lite_added and hop.p99 < lite.p99,
            )
        if self.wants(5):
            team = await load.requests(
                gateway, chat("chorus", TEAM_QUESTION), SATURATION_REQUESTS, SATURATION_CONCURRENCY, headers=AUTH
            )
            lite_sat = await load.requests(
                litellm, direct_body, SATURATION_REQUESTS, SATURATION_CONCURRENCY, headers=AUTH
            )
            self.add(
                f"5. Throughput at saturation ({SATURATION_CONCURRENCY} at a time, {SATURATION_REQUESTS} "
                "requests, whole team vs LiteLLM's one hop)",
                f"{team.per_second:.0f} req/s (errors {team.errors})",
                f"{lite_sat.per_second:.0f} req/s (errors {lite_sat.errors})",
                ">= LiteLLM's",
                team.errors == 0 and team.per_second >= lite_sat.per_second,
            )
        if self.wants(6):
            await self.memory(system, gateway)

    async def memory(self, system, gateway: str) -> None:
        body = chat("chorus", TEAM_QUESTION)
        await load.requests(gateway, body, WARM_UP, SATURATION_CONCURRENCY, headers=AUTH)
        before = {name: rss_kib(system.pid(name))[0] for name in PROCESSES}
        run = await load.requests(gateway, body, MEMORY_REQUESTS, SATURATION_CONCURRENCY, headers=AUTH)
        after = {name: rss_kib(system.pid(name))[0] for name in PROCESSES}
        growth = {name: (after[name] - before[name]) / before[name] * 100 for name in PROCESSES}
        worst = max(growth, key=lambda name: growth[name])
        self.add(
            f"6. RSS growth over {MEMORY_REQUESTS:,} whole-team requests after {WARM_UP:,} of warm-up",
            f"at most {growth[worst]:+.1f}% ({worst}); "
            + ", ".join(f"{n} {before[n] // 1024}->{after[n] // 1024} MB" for n in PROCESSES)
            + f" (errors {run.errors})",
            "-",
            "<= 10% for every process",
            run.errors == 0 and growth[worst] <= 10,
        )

    async def relay(self, system, llm: str) -> None:
        gateway = system.base_url + "/chat/completions"
        direct, through = [], []
        async with load.session(4) as http:
            for _ in range(3):  # warm up
                await load.stream(http, llm, chat("fake-llm", SMALL_TALK))
                await load.stream(http, gateway, chat("chorus", SMALL_TALK), AUTH)
            for _ in range(RELAY_ROUNDS):  # small talk: the supervisor plans the writer alone
                direct.append(await load.stream(http, llm, chat("fake-llm", SMALL_TALK)))
                through.append(await load.stream(http, gateway, chat("chorus", SMALL_TALK), AUTH))
        errors = [t.error for t in through if t.error]
        first = _median([t.first for t in through]) - _median([t.first for t in direct])
        per_token = _median([(t.last - t.first) / max(1, t.pieces - 1) for t in through]) - _median(
            [(t.last - t.first) / max(1, t.pieces - 1) for t in direct]
        )
        pieces = _median([t.pieces for t in through])
        self.add(
            f"3. Streaming relay, gateway -> supervisor -> writer, a token every {RELAY_DELAY * 1000:.0f} ms "
            f"({RELAY_ROUNDS} streams of {RELAY_TOKENS} tokens, p50)",
            f"+{first * 1000:.1f} ms to the first token, +{per_token * 1000:.2f} ms a token "
            f"({pieces:.0f} deltas a stream; errors {len(errors)})",
            "-",
            "<= 20 ms to the first token, <= 1 ms a token",
            not errors and first * 1000 <= 20 and per_token * 1000 <= 1,
        )

    async def concurrency(self, system) -> None:
        gateway = system.base_url + "/chat/completions"
        async with load.session(STREAMS + 10) as http:

            async def one(i: int) -> load.StreamTiming:
                return await load.stream(
                    http, gateway, chat("chorus", TEAM_QUESTION, conversation_id=f"bench-{i}"), AUTH
                )

            timings = await asyncio.gather(*(one(i) for i in range(STREAMS)))
            stored = 0
            for i, timing in enumerate(timings):
                async with http.get(f"{system.base_url}/conversations/bench-{i}", headers=AUTH) as response:
                    if response.status == 200:
                        messages = (await response.json())["messages"]
                        stored += [m["role"] for m in messages] == ["user", "assistant"] and messages[1][
                            "content"
                        ] == timing.text
        errors = sum(1 for t in timings if t.error)
        peaks = {name: rss_kib(system.pid(name))[1] // 1024 for name in PROCESSES}
        self.add(
            f"4. {STREAMS:,} concurrent streaming conversations, whole team ({STREAM_TOKENS} tokens "
            f"{STREAM_DELAY * 1000:.0f} ms apart)",
            f"{errors} errors, {stored:,} of {STREAMS:,} turns stored; slowest {max(t.last for t in timings):.1f} s; "
            "peak RSS " + ", ".join(f"{n} {mb} MB" for n, mb in peaks.items()),
            "-",
            "0 errors, every turn stored",
            errors == 0 and stored == STREAMS,
        )

    async def embedded(self, system) -> None:
        gateway = system.base_url + "/chat/completions"
        async with load.session(2) as http:
            results = {}
            for label, body in (
                ("small talk", chat("chorus", SMALL_TALK)),
                ("research and compute", chat("chorus", TEAM_QUESTION)),
            ):
                await load.stream(http, gateway, body, AUTH)  # the first call warms the model's cache
                runs = [await load.stream(http, gateway, body, AUTH) for _ in range(3)]
                results[label] = runs
        self.add(
            "7. Embedded default (SmolLM2-135M, streamed, median of 3): first token / whole answer",
            "; ".join(
                f"{label} {_median([r.first for r in runs]):.2f} s / {_median([r.last for r in runs]):.2f} s"
                + (f" ({sum(1 for r in runs if r.error)} errors)" if any(r.error for r in runs) else "")
                for label, runs in results.items()
            ),
            "-",
            "reported",
            None,
        )

    async def voice(self, system) -> None:
        """Vapi-shaped calls on the embedded model: how soon the caller hears the first words."""
        url = system.url("gateway") + "/chat/completions"
        turns: list[list[load.StreamTiming]] = [[] for _ in VOICE_TURNS]
        async with load.session(2) as http:
            for call in range(VOICE_CALLS + 1):  # the first call warms the model's cache
                call_id = f"bench-call-{os.getpid()}-{call}"
                messages = [{"role": "system", "content": "You are a helpful voice assistant. Keep answers short."}]
                for turn, question in enumerate(VOICE_TURNS):
                    messages.append({"role": "user", "content": question})
                    timing = await load.stream(
                        http,
                        url,
                        {
                            "model": "chorus",
                            "messages": messages,
                            "call": {"id": call_id, "type": "inboundPhoneCall"},
                            "metadata": {"tenant": "bench", "attempt": call},
                            "phoneNumber": {"number": "+15550100"},
                            "customer": {"number": "+15550199"},
                        },
                        AUTH,
                    )
                    messages.append({"role": "assistant", "content": timing.text})
                    if call:
                        turns[turn].append(timing)
        errors = sum(1 for runs in turns for t in runs if t.error)
        self.add(
            f"8. Vapi-shaped voice calls on the embedded model ({VOICE_CALLS} calls of {len(VOICE_TURNS)} turns, "
            "median): first progress line / first content token / whole answer",
            "; ".join(
                f"turn {i + 1} {_median([t.progress for t in runs]):.2f} s / "
                f"{_median([t.first for t in runs]):.2f} s / {_median([t.last for t in runs]):.2f} s"
                for i, runs in enumerate(turns)
            )
            + f" (errors {errors})",
            "-",
            "reported",
            None,
        )

    async def run(self) -> None:
        with FakeLLM() as llm, chorus_on_fake_llm(llm.url, {"API_KEYS": BENCH_KEY}) as system:
            if self.wants(1, 2, 5, 6):
                litellm_port = free_ports(["litellm"])["litellm"]
                with litellm_proxy(litellm_port, llm.url):
                    await self.on_instant_llm(
                        system, llm.url + "/chat/completions", f"http://127.0.0.1:{litellm_port}/v1/chat/completions"
                    )
            if self.wants(3):
                llm.restart(tokens=RELAY_TOKENS, delay=RELAY_DELAY)
                await self.relay(system, llm.url + "/chat/completions")
            if self.wants(4):
                llm.restart(tokens=STREAM_TOKENS, delay=STREAM_DELAY)
                await self.concurrency(system)
        if self.wants(9):
            self.knowledge()
        if self.wants(7, 8):
            with chorus_system({"API_KEYS": BENCH_KEY}) as system:
                if self.wants(7):
                    await self.embedded(system)
                if self.wants(8):
                    await self.voice(system)

    def knowledge(self) -> None:
        """The researcher's index over 10,000 generated documents: built, then reloaded unchanged."""
        found = knowledge.measure(KNOWLEDGE_DOCUMENTS)
        built, restart = found["build"], found["restart"]
        self.add(
            f"9. Knowledge base: {found['documents']:,} documents ({found['megabytes']:.0f} MB, "
            f"{built['chunks']:,} passages): build / restart with nothing changed / memory / query p50, p99",
            f"build {built['seconds']:.1f} s; restart {restart['seconds']:.2f} s ({restart['read']} files read); "
            f"RSS {restart['peak_rss_mb']:.0f} MB; query {restart['p50_ms']:.1f} ms / {restart['p99_ms']:.1f} ms",
            "-",
            f"restart <= {KNOWLEDGE_RESTART_GOAL_SECONDS:g} s",
            restart["seconds"] <= KNOWLEDGE_RESTART_GOAL_SECONDS and not restart["rebuilt"],
        )

    def table(self) -> str:
        header = ["figure", "Chorus", "LiteLLM proxy", "goal", "verdict"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        ordered = sorted(self.rows, key=lambda row: int(row.figure.split(".", 1)[0]))
        lines += ["| " + " | ".join(row.cells()) + " |" for row in ordered]
        return "\n".join(lines)


def _median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2] if values else float("nan")


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(map(str, ALL_FIGURES)), help="comma-separated figure numbers")
    args = parser.parse_args()
    only = {int(f) for f in args.only.split(",")}
    bench = Bench(only)
    asyncio.run(bench.run())
    table = bench.table()
    print("\n" + table + "\n\n" + "\n".join(bench.notes))
    if only == set(ALL_FIGURES):
        RESULTS.write_text(
            "# Benchmark results\n\n"
            "What Chorus adds to an LLM, beside LiteLLM's proxy (one worker) on the same fake upstream, "
            "measured in one run of `make bench` (`python -m bench`). The fake LLM (`bench/fake_llm.py`) "
            'answers at once unless a figure says otherwise; "added" is a path\'s median minus the direct '
            "call's median.\n\n"
            f"Machine: {machine()}.\n\nReproduce with `make bench` (about 15 minutes; it starts and stops "
            f"everything it measures).\n\n{table}\n\n" + "\n".join(f"- {n}" for n in bench.notes) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
