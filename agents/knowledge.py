"""The researcher's knowledge base: a folder of documents, chunked by heading, indexed with BM25.

The index persists under DATA_DIR: the chunks of each file, with the file's size and modification
time, and the BM25 index over all of them. At start-up (and `make index`) only the files that changed
are read again; with none changed, the saved BM25 index is loaded as it is, so a restart over
thousands of unchanged files takes seconds.
"""

from __future__ import annotations

import fcntl
import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import orjson
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from agents.documents import HEADING_MARK, read_document, readable
from config import Settings

log = logging.getLogger(__name__)
INDEX_VERSION = 2  # a saved index of another version is rebuilt
MAX_CHUNK_WORDS = 160
RELATIVE_FLOOR = 0.5
# Words that say how to look, not what to look for: "what do the docs say about X" is about X.
QUERY_NOISE = {
    "knowledge",
    "base",
    "doc",
    "docs",
    "documentation",
    "research",
    "say",
    "says",
    "tell",
    "explain",
    "describe",
    "find",
    "look",
    "search",
    "according",
    "chorus",
    "please",
    "background",
    "overview",
    "give",
    "details",
    "learn",
    "compute",
    "calculate",
    "happen",
    "happens",
    "contain",
    "contains",
    "offer",
    "offers",
    "may",
    "use",
    "put",
    "many",
    "much",
    "one",
    "get",
    "work",
    "works",
    "way",
    "ways",
    "thing",
    "things",
    "mean",
    "means",
}
STOPWORD_SET = set(STOPWORDS_EN_PLUS) | QUERY_NOISE
STOPWORDS = sorted(STOPWORD_SET)
# The arithmetic part of a request ("... and compute the growth from 120 to 150") is the analyst's.
ARITHMETIC_CLAUSE = re.compile(
    r"(?:,|;|\band\b|\bthen\b)?\s*\b(?:compute|calculate|work out|sum|add up|what is \d|what's \d)\b.*$",
    re.IGNORECASE | re.DOTALL,
)
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


@dataclass(frozen=True)
class Chunk:
    path: str  # relative to the knowledge folder
    heading: str
    text: str

    @property
    def location(self) -> str:
        anchor = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"{self.path}#{anchor}" if anchor else self.path


@dataclass(frozen=True)
class Passage:
    chunk: Chunk
    score: float  # BM25
    coverage: float  # the share of the query's terms the passage contains


def split_document(path: str, text: str) -> list[Chunk]:
    """One chunk per section (the heading path kept), long sections split into windows."""
    chunks: list[Chunk] = []
    trail: list[str] = []
    body: list[str] = []

    def flush() -> None:
        words = " ".join(body).split()
        heading = " > ".join(trail) or Path(path).stem
        for start in range(0, len(words), MAX_CHUNK_WORDS):
            chunks.append(Chunk(path, heading, " ".join(words[start : start + MAX_CHUNK_WORDS])))
        body.clear()

    marked = HEADING_MARK in text  # HTML or PDF text: only its marked lines are headings
    for line in text.splitlines():
        match = HEADING.match(line.removeprefix(HEADING_MARK)) if not marked or line.startswith(HEADING_MARK) else None
        if match:
            flush()
            level = len(match.group(1))
            trail[:] = trail[: level - 1] + [match.group(2).strip()]
        else:
            body.append(line)
    flush()
    return chunks


@dataclass
class IndexReport:
    """What loading the knowledge base did: for the log, `make index` and the benchmark."""

    files: int = 0
    chunks: int = 0
    read: int = 0  # files read (new or changed)
    removed: int = 0
    rebuilt: bool = False  # the BM25 index was built again (else loaded as saved)
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)  # files that could not be read

    def __str__(self) -> str:
        how = "rebuilt" if self.rebuilt else "loaded unchanged"
        return (
            f"{self.files} files, {self.chunks} chunks; {self.read} read, {self.removed} removed; "
            f"index {how} in {self.seconds:.2f} s"
        )


class KnowledgeBase:
    def __init__(self, chunks: list[Chunk], retriever: Any = None):
        self.chunks = chunks
        self.stemmer = Stemmer.Stemmer("english")
        self.terms: dict[int, set[str]] = {}  # a chunk's terms, worked out when it is first a candidate
        if retriever is None:
            retriever = bm25s.BM25()
            if chunks:
                retriever.index(self._tokenize([f"{c.heading}\n{c.text}" for c in chunks]), show_progress=False)
        self.retriever = retriever

    @classmethod
    def load(cls, folder: Path, store: Path | None = None) -> tuple[KnowledgeBase, IndexReport]:
        """The folder's documents, recursively; with `store`, the index saved there is reused for every
        file unchanged since, and saved again when anything changed. Researchers that share the store
        take turns (a file lock): the second to start loads what the first saved."""
        if store is None:
            return cls._load(folder, None)
        try:
            store.mkdir(parents=True, exist_ok=True)
            lock = open(store / "lock", "w")  # held across the load, closed by the with below
        except OSError as error:  # a read-only filesystem (a hardened container): indexed in memory, each start
            log.warning("the index cannot be kept in %s (%s): it is built in memory", store, error.strerror)
            return cls._load(folder, None)
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return cls._load(folder, store)

    @classmethod
    def _load(cls, folder: Path, store: Path | None) -> tuple[KnowledgeBase, IndexReport]:
        started = time.perf_counter()
        report = IndexReport()
        files = (
            sorted(f for f in folder.rglob("*") if f.is_file() and readable(f.relative_to(folder)))
            if folder.is_dir()
            else []
        )
        saved = _saved_files(store, folder)
        kept: dict[str, dict[str, Any]] = {}
        chunks: list[Chunk] = []
        for file in files:
            relative = str(file.relative_to(folder))
            stat = file.stat()
            entry = saved.get(relative)
            if not (entry and entry["mtime_ns"] == stat.st_mtime_ns and entry["size"] == stat.st_size):
                report.read += 1
                try:
                    pieces = [[c.heading, c.text] for c in split_document(relative, read_document(file))]
                except (OSError, ValueError) as error:
                    log.warning("could not read %s: %s", relative, error)
                    report.skipped.append(relative)
                    continue
                entry = {"mtime_ns": stat.st_mtime_ns, "size": stat.st_size, "chunks": pieces}
            kept[relative] = entry
            chunks += [Chunk(relative, heading, text) for heading, text in entry["chunks"]]
        report.removed = len(set(saved) - set(kept))
        report.files, report.chunks = len(kept), len(chunks)
        retriever = None
        if store is not None and not report.read and not report.removed and (store / "bm25").is_dir():
            retriever = bm25s.BM25.load(store / "bm25")
        knowledge = cls(chunks, retriever)
        report.rebuilt = retriever is None
        if store is not None and report.rebuilt:
            try:
                _save(store, folder, kept, knowledge)
            except OSError as error:  # a full disk: this start serves from memory, the next builds again
                log.warning("the index could not be saved in %s (%s)", store, error.strerror)
        report.seconds = time.perf_counter() - started
        return knowledge, report

    def _tokenize(self, texts: list[str]) -> Any:  # bm25s tokens (it ships no types)
        return bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=self.stemmer, show_progress=False)

    def _chunk_terms(self, at: int) -> set[str]:
        if at not in self.terms:
            chunk = self.chunks[at]
            self.terms[at] = self._terms(f"{chunk.heading}\n{chunk.text}")
        return self.terms[at]

    def _terms(self, text: str) -> set[str]:
        words = [w for w in re.findall(r"[a-z_][a-z0-9_]*", text.lower()) if w not in STOPWORD_SET]
        return set(self.stemmer.stemWords(words))

    def search(self, query: str, k: int = 4, min_coverage: float = 0.0) -> list[Passage]:
        """The best k passages by BM25 that hold at least min_coverage of the query's terms, and
        score at least half the best one (a weak tail passage is not a source worth citing).

        Coverage is what makes "relevant" mean something on a small knowledge base: BM25 ranks, but
        its scores drift with the corpus; a passage that holds one word of "the history of the
        Roman Empire" (history) is not about it."""
        if not self.chunks:
            return []
        query = ARITHMETIC_CLAUSE.sub("", query) or query
        wanted_count, k = k, min(k * 3, len(self.chunks))  # ranked by BM25, then filtered by coverage, then cut to k
        tokens = self._tokenize([query])
        if not tokens.vocab:
            return []
        ids, scores = self.retriever.retrieve(tokens, k=k, show_progress=False)
        wanted = self._terms(query)
        best = float(scores[0][0]) if len(scores[0]) else 0.0
        floor = max(best * RELATIVE_FLOOR, 1e-9)
        passages = []
        for i, score in zip(ids[0], scores[0]):
            coverage = len(wanted & self._chunk_terms(int(i))) / len(wanted) if wanted else 0.0
            if score >= floor and coverage >= min_coverage:
                passages.append(Passage(self.chunks[int(i)], float(score), round(coverage, 3)))
        return passages[:wanted_count]


def _saved_files(store: Path | None, folder: Path) -> dict[str, dict[str, Any]]:
    """The files the saved index holds, if it is of this version and this folder; else none."""
    if store is None or not (store / "files.json").is_file():
        return {}
    try:
        saved = orjson.loads((store / "files.json").read_bytes())
    except orjson.JSONDecodeError:
        return {}
    if saved.get("version") != INDEX_VERSION or saved.get("folder") != str(folder.resolve()):
        return {}
    files: dict[str, dict[str, Any]] = saved.get("files", {})
    return files


def _save(store: Path, folder: Path, files: dict[str, dict[str, Any]], knowledge: KnowledgeBase) -> None:
    """Written aside, then moved into place: a crash mid-save leaves the last whole index."""
    store.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(store / "bm25.new", ignore_errors=True)
    shutil.rmtree(store / "bm25", ignore_errors=True)
    if knowledge.chunks:
        knowledge.retriever.save(store / "bm25.new")
        (store / "bm25.new").rename(store / "bm25")
    body = orjson.dumps({"version": INDEX_VERSION, "folder": str(folder.resolve()), "files": files})
    (store / "files.json.new").write_bytes(body)
    (store / "files.json.new").replace(store / "files.json")


def knowledge_store(settings: Settings) -> Path:
    """Where the researcher keeps its index: under DATA_DIR."""
    return settings.resolve(settings.data_dir) / "knowledge"
