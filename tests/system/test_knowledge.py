"""The researcher's index over a collection nobody here wrote: Python's documentation as Debian's
python3.11-doc installs it (`make test` installs it). `make index` builds it once under DATA_DIR; run
again with nothing changed, it reads no file."""

import os
import re
import subprocess
import sys
from pathlib import Path

from agents.knowledge import KnowledgeBase
from tests.helpers import ROOT

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
REPORT = re.compile(r"(\d+) files, (\d+) chunks; (\d+) read, (\d+) removed; index (rebuilt|loaded unchanged)")


def index(data: Path) -> tuple[int, int, int, str]:
    env = {**os.environ, "KNOWLEDGE_DIR": str(PYTHON_DOCS), "DATA_DIR": str(data)}
    done = subprocess.run(
        [sys.executable, "-m", "runtime", "index"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    files, chunks, read, _, how = REPORT.search(done.stdout).groups()
    return int(files), int(chunks), int(read), how


def test_a_real_collection_is_indexed_once_then_reused_and_cited_by_page(tmp_path):
    files, chunks, read, how = index(tmp_path)
    assert files > 400 and read == files and how == "rebuilt"  # every HTML page, none of _static or _sources
    assert index(tmp_path) == (files, chunks, 0, "loaded unchanged")
    knowledge, _ = KnowledgeBase.load(PYTHON_DOCS, tmp_path / "knowledge")
    [best, *_] = knowledge.search("How do I read a CSV file?", 4, 0.6)
    assert best.chunk.path == "library/csv.html" and best.chunk.heading.startswith("csv — CSV File Reading")
    assert not knowledge.search("What is the capital of Australia?", 4, 0.6)
