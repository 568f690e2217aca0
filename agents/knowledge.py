"""The researcher's knowledge base: a folder of documents, chunked by heading, indexed with BM25."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import bm25s
import Stemmer

SUFFIXES = {".md", ".markdown", ".txt", ".rst"}
MAX_CHUNK_WORDS = 160
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
    score: float


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

    def _tokenize(self, texts: list[str]):
        return bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)

    def search(self, query: str, k: int = 4) -> list[Passage]:
        if not self.chunks:
            return []
        tokens = self._tokenize([query])
        if not tokens.vocab:
            return []
        k = min(k, len(self.chunks))
        ids, scores = self.retriever.retrieve(tokens, k=k, show_progress=False)
        return [
            Passage(self.chunks[int(i)], float(s)) for i, s in zip(ids[0], scores[0]) if s > 0
        ]
