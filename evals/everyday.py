"""The everyday set, end to end: questions in people's words, single turns and follow-ups, through the
gateway on the embedded model, each half reported on its own.

Each answer is right (every figure asked for is in it, and every other figure is a right intermediate
or a number the user gave), declined (no figure but the user's, and it says plainly that it could
not work it out) or wrong (anything else: a wrong figure above all). The dev half may be tuned
against; the test half is never read while the reader changes (see the files' headers).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass

from openai import OpenAI

from agents.numbers import Mention, mentions, words_to_digits
from config import PROJECT_ROOT
from evals.grounding import CITATION, SOURCES_LINE, _shows
from evals.parallel import in_parallel

HALVES = {half: PROJECT_ROOT / "tests" / "evals" / f"everyday.{half}.jsonl" for half in ("dev", "test")}
GOALS = {"wrong": 0, "right_test": 0.9}
DECLINED = re.compile(r"\b(could not|couldn't|can't|cannot|unable|not able)\b", re.IGNORECASE)


@dataclass
class Outcome:
    row: dict
    answer: str
    seconds: float
    verdict: str  # right, declined or wrong
    why: str = ""


def load(half: str) -> list[dict]:
    lines = HALVES[half].read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def judge(row: dict, answer: str) -> tuple[str, str]:
    found = mentions(CITATION.sub(" ", SOURCES_LINE.sub(" ", answer)))
    given = [m for turn in row["turns"] for m in mentions(words_to_digits(turn))]

    def known(m: Mention) -> bool:
        return any(_shows(m, v) for v in row["expected"] + row["allowed"]) or any(
            _shows(m, g.value) or _shows(m, g.raw) for g in given
        )

    invented = [m.text.strip() for m in found if not known(m)]
    if invented:
        return "wrong", f"figures {invented} are neither right nor the user's"
    missing = [e for e in row["expected"] if not any(_shows(m, e) for m in found)]
    if not missing:
        return "right", ""
    if DECLINED.search(answer):
        return "declined", f"no {missing}"
    return "wrong", f"no {missing}, and it does not say it could not work it out"


def ask(client: OpenAI, row: dict) -> Outcome:
    messages: list[dict] = []
    answer, seconds = "", 0.0
    for turn in row["turns"]:
        messages.append({"role": "user", "content": turn})
        started = time.perf_counter()
        reply = client.chat.completions.create(model="chorus", messages=messages)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started  # the last turn's whole answer
        answer = reply.choices[0].message.content or ""
        messages.append({"role": "assistant", "content": answer})
    verdict, why = judge(row, answer)
    if row["kind"] == "decline" and verdict == "declined":
        verdict = "right"
    return Outcome(row, answer, seconds, verdict, why)


def run(base_url: str, rows: list[dict]) -> list[Outcome]:
    client = OpenAI(base_url=base_url, api_key="eval", timeout=180, max_retries=0)
    return in_parallel(lambda row: ask(client, row), rows)


def print_half(half: str, outcomes: list[Outcome], show_misses: bool) -> bool:
    counts = {v: sum(o.verdict == v for o in outcomes) for v in ("right", "declined", "wrong")}
    n = len(outcomes)
    times = [o.seconds for o in outcomes]
    print(
        f"{half} half, {n} questions: right {counts['right']} ({counts['right'] / n:.0%}), "
        f"declined {counts['declined']}, wrong {counts['wrong']}; whole answer: median "
        f"{statistics.median(times):.2f} s, slowest {max(times):.2f} s"
    )
    for o in outcomes:
        if o.verdict != "right" and show_misses:
            print(f"    {o.verdict}: {o.why}: {o.row['turns'][-1][:70]!r} -> {' '.join(o.answer.split())[:150]!r}")
    met = counts["wrong"] <= GOALS["wrong"]
    return met and (half != "test" or counts["right"] / n >= GOALS["right_test"])


def report(base_url: str) -> bool:
    print("everyday set: questions in people's words, end to end through the gateway")
    met = True
    for half in HALVES:
        # the test half's misses are not printed: it is not to be tuned against
        met &= print_half(half, run(base_url, load(half)), show_misses=half == "dev")
    print(f"goals: wrong = {GOALS['wrong']} on both halves, right >= {GOALS['right_test']:.0%} on the test half")
    return met
