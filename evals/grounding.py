"""The grounding set, end to end: each request through the gateway, on the embedded model.

Three figures, each against its goal:
- computed answers that are right and carry no invented number (goal 100%): the expected result
  appears, and every other number in the answer is one the user wrote;
- research answers that cite the expected source (goal 90%);
- source-free answers that cite nothing (goal 100%).
The scoring reads answers as a client sees them; it shares only the number parser with Chorus.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from openai import OpenAI

from agents.numbers import Mention, decimals, mentions, words_to_digits
from config import PROJECT_ROOT
from evals.parallel import in_parallel

GROUNDING_SET = PROJECT_ROOT / "tests" / "evals" / "grounding.jsonl"
GOALS = {"compute": 1.0, "research": 0.9, "no_sources": 1.0}
SOURCES_LINE = re.compile(r"^Sources: .*$", re.MULTILINE)
CITATION = re.compile(r"\[\d+\]")


@dataclass
class Verdict:
    ok: bool
    why: str = ""


def load_rows() -> list[dict]:
    return [json.loads(line) for line in GROUNDING_SET.read_text().splitlines() if line.strip()]


def _shows(m: Mention, value: float) -> bool:
    """The answer's number is the value, as written or rounded to the decimals it shows."""
    shown = decimals(m.text)
    for written in (abs(m.value), abs(m.raw)):
        if abs(written - abs(value)) <= 1e-6 * max(1.0, abs(value)):
            return True
        if round(abs(value), max(shown, 0)) == round(written, max(shown, 0)) and (shown or abs(value) >= 100):
            return True
        if abs(written - abs(value)) <= 0.006 + 0.0005 * abs(value) and shown >= 1:
            return True  # the expected figure is itself rounded to two decimals
    return False


def judge_computation(request: str, answer: str, expected: float) -> Verdict:
    found = mentions(CITATION.sub(" ", answer))
    if not any(_shows(m, expected) for m in found):
        return Verdict(False, f"expected {expected:g} not in the answer")
    given = mentions(words_to_digits(request))  # "six" is a number the user gave
    invented = [
        m.text
        for m in found
        if not _shows(m, expected) and not any(_shows(m, g.value) or _shows(m, g.raw) for g in given)
    ]
    return Verdict(not invented, f"invented {invented}" if invented else "")


def judge_research(answer: str, source: str) -> Verdict:
    cited = SOURCES_LINE.search(answer)
    if cited and source in cited.group(0):
        return Verdict(True)
    return Verdict(False, f"cited {cited.group(0) if cited else 'nothing'}; expected {source}")


def judge_no_sources(answer: str) -> Verdict:
    if SOURCES_LINE.search(answer) or CITATION.search(answer):
        return Verdict(False, "cites a source")
    return Verdict(True)


def judge(row: dict, answer: str) -> Verdict:
    if row["kind"] == "compute":
        return judge_computation(row["request"], answer, row["expected"])
    if row["kind"] == "research":
        return judge_research(answer, row["source"])
    return judge_no_sources(answer)


def ask(client: OpenAI, request: str) -> str:
    reply = client.chat.completions.create(model="chorus", messages=[{"role": "user", "content": request}])
    return reply.choices[0].message.content or ""


def run(base_url: str, rows: list[dict]) -> list[tuple[dict, str, Verdict]]:
    client = OpenAI(base_url=base_url, api_key="eval", timeout=180, max_retries=0)
    answers = in_parallel(lambda row: ask(client, row["request"]), rows)
    return [(row, answer, judge(row, answer)) for row, answer in zip(rows, answers)]


def print_figures(outcomes: list[tuple[dict, str, Verdict]]) -> bool:
    names = {
        "compute": "computed answers right with no invented number",
        "research": "research answers citing the expected source",
        "no_sources": "source-free answers citing nothing",
    }
    met = True
    for kind, name in names.items():
        rows = [(row, answer, v) for row, answer, v in outcomes if row["kind"] == kind]
        right = sum(v.ok for _, _, v in rows)
        share = right / len(rows) if rows else 0.0
        met &= share >= GOALS[kind]
        print(f"{name}: {right}/{len(rows)} = {share:.1%} (goal {GOALS[kind]:.0%})")
        for row, answer, verdict in rows:
            if not verdict.ok:
                print(f"    {verdict.why}: {row['request'][:60]!r} -> {' '.join(answer.split())[:160]!r}")
    return met


def report(base_url: str) -> bool:
    rows = load_rows()
    print(f"grounding set: {len(rows)} requests end to end through the gateway")
    return print_figures(run(base_url, rows))
