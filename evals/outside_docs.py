"""Retrieval on a collection nobody here wrote: Python's own documentation, as Debian's python3.11-doc
package installs it (HTML, 530 pages). Each question goes end to end through the gateway of a system
whose KNOWLEDGE_DIR is that folder; the model's words do not matter here (the fake LLM stands in the
embedded model's place), only which pages the answer cites.

Two figures per half, each against its goal: answerable questions whose answer cites an expected page
(goal on the test half: 85%), and unanswerable ones whose answer cites nothing (goal: 100%). The dev
half may be tuned against; the test half never is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from openai import OpenAI

from bench.systems import chorus_on_a_fake_in_the_models_place
from config import PROJECT_ROOT
from evals.parallel import in_parallel

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
SETS = {half: PROJECT_ROOT / "tests" / "evals" / f"python_docs.{half}.jsonl" for half in ("dev", "test")}
GOALS = {"cites": 0.85, "nothing": 1.0}  # on the test half
SOURCES_LINE = re.compile(r"^Sources: (.*)$", re.MULTILINE)
CITED = re.compile(r"\[\d+\] ([^#;\s]+)")


def load(half: str) -> list[dict]:
    return [json.loads(line) for line in SETS[half].read_text().splitlines() if line.strip()]


def cited_pages(answer: str) -> list[str]:
    line = SOURCES_LINE.search(answer)
    return CITED.findall(line.group(1)) if line else []


def report() -> bool:
    if not PYTHON_DOCS.is_dir():
        print(f"outside collection: {PYTHON_DOCS} is missing (make eval installs Debian's python3.11-doc)")
        return False
    print(f"outside collection: Python's documentation ({PYTHON_DOCS}), end to end through the gateway")
    with chorus_on_a_fake_in_the_models_place(extra_env={"KNOWLEDGE_DIR": str(PYTHON_DOCS)}) as system:
        client = OpenAI(base_url=system.base_url, api_key="unused", max_retries=0, timeout=120)

        def ask(row: dict) -> list[str]:
            reply = client.chat.completions.create(
                model="chorus", messages=[{"role": "user", "content": row["question"]}]
            )
            return cited_pages(reply.choices[0].message.content or "")

        met = True
        for half in ("dev", "test"):
            rows = load(half)
            cited = in_parallel(ask, rows)
            answerable = [(r, c) for r, c in zip(rows, cited) if r["expected"]]
            unanswerable = [(r, c) for r, c in zip(rows, cited) if not r["expected"]]
            right = [r for r, c in answerable if set(c) & set(r["expected"])]
            silent = [r for r, c in unanswerable if not c]
            cites, nothing = len(right) / len(answerable), len(silent) / len(unanswerable)
            print(
                f"{half} half: cites an expected page {len(right)}/{len(answerable)} = {cites:.1%}; "
                f"unanswerable citing nothing {len(silent)}/{len(unanswerable)} = {nothing:.1%}"
            )
            for row, pages in [*answerable, *unanswerable]:
                if bool(set(pages) & set(row["expected"])) != bool(row["expected"]) or (pages and not row["expected"]):
                    print(
                        f"    {row['question']!r}: cited {pages or 'nothing'}; expected {row['expected'] or 'nothing'}"
                    )
            if half == "test":
                met = cites >= GOALS["cites"] and nothing >= GOALS["nothing"]
        print(
            f"goals on the test half: cites >= {GOALS['cites']:.0%}, unanswerable citing nothing {GOALS['nothing']:.0%}"
        )
        return met
