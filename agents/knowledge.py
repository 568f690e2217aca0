"""The researcher's knowledge base: a folder of documents, chunked by heading, indexed with BM25."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

SUFFIXES = {".md", ".markdown", ".txt", ".rst"}
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

    for line in text.splitlines():
        match = HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            trail[:] = trail[: level - 1] + [match.group(2).strip()]
        else:
            body.append(line)
    flush()
    return chunks


class KnowledgeBase:
    def __init__(self, chunks: list[Chunk]):
        self.chunks = chunks
        self.stemmer = Stemmer.Stemmer("english")
        self.retriever = bm25s.BM25()
        self.terms = [self._terms(f"{c.heading}\n{c.text}") for c in chunks]
        if chunks:
            corpus = [f"{c.heading}\n{c.text}" for c in chunks]
            self.retriever.index(self._tokenize(corpus), show_progress=False)

    @classmethod
    def from_folder(cls, folder: Path) -> KnowledgeBase:
        chunks: list[Chunk] = []
        if folder.is_dir():
            for file in sorted(folder.rglob("*")):
                if file.suffix.lower() in SUFFIXES and file.is_file():
                    relative = str(file.relative_to(folder))
                    chunks += split_document(relative, file.read_text(errors="replace"))
        return cls(chunks)

    def _tokenize(self, texts: list[str]) -> Any:  # bm25s tokens (it ships no types)
        return bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=self.stemmer, show_progress=False)

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
            coverage = len(wanted & self.terms[int(i)]) / len(wanted) if wanted else 0.0
            if score >= floor and coverage >= min_coverage:
                passages.append(Passage(self.chunks[int(i)], float(score), round(coverage, 3)))
        return passages[:wanted_count]
