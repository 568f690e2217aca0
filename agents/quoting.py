"""Answers of fact composed from what the team found, with no model's paraphrase in them.

On the basic profile (the embedded 135M model), a paraphrase invents: APIs, figures, whole
architectures. So an answer of facts and figures is the computed figures, exactly as computed, and
the cited passages' own sentences that best answer the question, quoted and cited by number.
"""

from __future__ import annotations

import re

from orchestration.protocol import Source

QUOTES = 2  # sentences quoted: enough to answer, short enough to read
MIN_SHARED = 2  # terms a quoted sentence shares with the question: one shared word ("litres") is no answer
MAX_QUOTE_CHARS = 400
WORD = re.compile(r"[a-z0-9_]+")
STOP = {
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "by",
    "can",
    "do",
    "does",
    "for",
    "from",
    "has",
    "have",
    "how",
    "i",
    "in",
    "is",
    "it",
    "its",
    "of",
    "on",
    "or",
    "our",
    "so",
    "that",
    "the",
    "their",
    "them",
    "there",
    "these",
    "this",
    "to",
    "was",
    "we",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "you",
    "your",
    "me",
    "my",
    "about",
    "tell",
    "say",
    "says",
    "knowledge",
    "base",
    "docs",
    "documentation",
    "please",
}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?:[-*+]\s+)?(?=[A-Z`\"'(\[*])")


def _terms(text: str) -> set[str]:
    return {_stem(w) for w in WORD.findall(text.lower()) if w not in STOP and len(w) > 1}


def _stem(word: str) -> str:
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def sentences(passage: str) -> list[str]:
    """A passage's prose sentences: code blocks, tables and headings are left out."""
    prose = re.sub(r"```.*?(```|$)", " ", passage, flags=re.DOTALL)
    found = []
    for line in prose.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "|", ">")):
            continue
        line = re.sub(r"^[-*+]\s+|^\d+\.\s+", "", line)
        found += [s.strip() for s in SENTENCE_END.split(line) if len(s.split()) >= 4]
    return found


def best_quotes(question: str, sources: list[Source], limit: int = QUOTES) -> list[tuple[Source, str]]:
    """The sentences of the sources that share the most terms with the question, best first."""
    asked = _terms(question)
    needed = min(MIN_SHARED, len(asked))
    scored = []
    for rank, source in enumerate(sources):
        for order, sentence in enumerate(sentences(source.snippet)):
            shared = len(asked & _terms(sentence))
            if shared and shared >= needed:
                scored.append((-shared, rank, order, source, sentence))
    scored.sort(key=lambda s: s[:3])
    chosen: list[tuple[Source, str]] = []
    for *_, source, sentence in scored:
        if len(chosen) == limit:
            break
        if len(sentence) > MAX_QUOTE_CHARS:
            sentence = sentence[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
        chosen.append((source, sentence))
    return chosen


def quoted(question: str, sources: list[Source]) -> str:
    """The best sentences as the answer gives them: “…” [n]."""
    quotes = best_quotes(question, sources)
    if not quotes:
        return ""
    lines = [f"“{sentence}” [{source.ref}]" for source, sentence in quotes]
    return "The sources say:\n" + "\n".join(f"- {line}" for line in lines) + "\n"
