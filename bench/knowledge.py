"""The knowledge figure of `make bench`: the researcher's index over 10,000 generated documents (~100 MB).

    python -m bench.knowledge --documents 10000     # prints the figures as JSON

It writes the documents (Markdown, with headings and ten sections each, words drawn from a fixed
vocabulary so that a run is repeatable), then, each in a fresh process as a researcher starting would:
builds the index under a data folder of its own, and loads it again with nothing changed. It reports
the build time, the restart time, the memory of the process holding the index, and the p50 and p99
latency of a query.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.systems import ROOT

SECTIONS, SECTION_WORDS = 10, 90  # ~10 KB a document
VOCABULARY = 20_000
QUERIES = 300


def words(count: int) -> list[str]:
    rng = random.Random(7)
    syllables = ["ka", "lo", "mi", "ren", "to", "shi", "va", "dor", "el", "qua", "bri", "nu", "sel", "tar"]
    found: set[str] = set()
    while len(found) < count:
        found.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(found)


def write_documents(folder: Path, count: int) -> int:
    vocabulary = words(VOCABULARY)
    rng = random.Random(11)
    size = 0
    for n in range(count):
        lines = [f"# Document {n}: {' '.join(rng.choices(vocabulary, k=3))}"]
        for s in range(SECTIONS):
            lines.append(f"## Section {s} {rng.choice(vocabulary)}")
            lines.append(" ".join(rng.choices(vocabulary, k=SECTION_WORDS)))
        path = folder / f"part{n % 100:02d}" / f"doc{n:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + "\n"
        path.write_text(text)
        size += len(text)
    return size


def load_and_query(folder: Path, store: Path) -> dict:
    """One researcher's start: the index loaded (built, if it must be), then queries against it."""
    from agents.knowledge import KnowledgeBase

    started = time.perf_counter()
    knowledge, report = KnowledgeBase.load(folder, store)
    seconds = time.perf_counter() - started
    vocabulary = words(VOCABULARY)
    rng = random.Random(13)
    latencies = []
    for _ in range(QUERIES):
        query = " ".join(rng.choices(vocabulary, k=4))
        t0 = time.perf_counter()
        knowledge.search(query, 4, 0.6)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    return {
        "seconds": seconds,
        "rebuilt": report.rebuilt,
        "files": report.files,
        "chunks": report.chunks,
        "read": report.read,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
    }


def measure(count: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="chorus-knowledge-") as root:
        folder, store = Path(root) / "docs", Path(root) / "data" / "knowledge"
        size = write_documents(folder, count)

        def researcher() -> dict:
            done = subprocess.run(
                [sys.executable, "-m", "bench.knowledge", "--load", str(folder), str(store)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            result: dict = json.loads(done.stdout)
            return result

        built, restarted = researcher(), researcher()
        return {"documents": count, "megabytes": size / 1e6, "build": built, "restart": restarted}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.knowledge", description=__doc__)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--load", nargs=2, metavar=("FOLDER", "STORE"), help="(internal) one researcher's start")
    args = parser.parse_args()
    if args.load:
        print(json.dumps(load_and_query(Path(args.load[0]), Path(args.load[1]))))
    else:
        print(json.dumps(measure(args.documents), indent=1))


if __name__ == "__main__":
    main()
