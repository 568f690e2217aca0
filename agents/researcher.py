"""The researcher: finds passages in the knowledge base (and the web, if configured) and cites them."""

from __future__ import annotations

import asyncio
import logging

from agents.base import Agent, Gathered, LLMClients
from agents.knowledge import KnowledgeBase, Passage
from agents.quoting import quoted
from agents.web_search import WebSearch
from config import Settings
from orchestration.planner import CLAUSE, RESEARCH
from orchestration.protocol import Source, TaskRequest

log = logging.getLogger(__name__)
PASSAGE_CHARS = 700  # what the LLM reads of a passage, and what the grounding check sees of it
# BM25 over an index of this size takes less time than a hop to a worker thread: only a larger
# index is searched off the event loop.
INLINE_SEARCH_CHUNKS = 10_000
NOTHING_RELEVANT = "The knowledge base has nothing relevant to this request."


class Researcher(Agent):
    name = "researcher"
    system_prompt = (
        "You are a researcher. Summarise what the numbered passages say about the task in a few "
        "sentences. Cite passages by their number, like [1]. Use only the passages."
    )

    def __init__(self, settings: Settings, llm: LLMClients | None = None, web: WebSearch | None = None):
        super().__init__(settings, llm)
        self.web = web
        self.knowledge = KnowledgeBase([])

    async def start(self) -> None:
        folder = self.settings.resolve(self.settings.knowledge_dir)
        self.knowledge = await asyncio.to_thread(KnowledgeBase.from_folder, folder)
        log.info("indexed %d chunks from %s", len(self.knowledge.chunks), folder)

    async def gather(self, task: TaskRequest) -> Gathered:
        query = research_query(task.instruction)
        coverage = self.settings.research_min_coverage
        if len(self.knowledge.chunks) <= INLINE_SEARCH_CHUNKS:
            passages = self.knowledge.search(query, 4, coverage)
        else:
            passages = await asyncio.to_thread(self.knowledge.search, query, 4, coverage)
        if self.web is not None and self.web.enabled:
            try:
                passages += await self.web.search(query)
            except Exception as error:  # the web is optional: say so, keep the local findings
                log.warning("web search failed: %s", error)
        sources = [
            Source(
                ref=n,
                title=p.chunk.heading,
                location=p.chunk.location,
                snippet=p.chunk.text[:PASSAGE_CHARS],
                score=round(p.score, 3),
            )
            for n, p in enumerate(passages, start=1)
        ]
        if not passages:  # nothing relevant: say so at once, with no LLM call and no source
            return Gathered(
                facts="", detail="0 relevant passages", complete=True, data={"empty": True}, preamble=NOTHING_RELEVANT
            )
        footer = "\n\nSources: " + "; ".join(f"[{s.ref}] {s.location}" for s in sources)
        if self.settings.profile("researcher") == "basic":  # the passages' words, not a summary
            return Gathered(
                facts="",
                sources=sources,
                detail=f"{len(passages)} passages, quoted",
                preamble=quoted(query, sources) or _numbered(passages),
                footer=footer,
                complete=True,
            )
        return Gathered(facts=_numbered(passages), sources=sources, detail=f"{len(passages)} passages", footer=footer)


def research_query(request: str) -> str:
    """The part of a compound request that asks for facts: "Revenue went from $1.2M to $1.5M. What is the
    growth, and what do the docs say about storage?" searches for "what do the docs say about storage"."""
    clauses = [c for c in CLAUSE.split(request) if c.strip()]
    asking = [c for c in clauses if RESEARCH.search(c)]  # only a clause that asks for facts narrows the search
    return " ".join(asking) if asking and len(asking) < len(clauses) else request


def _numbered(passages: list[Passage]) -> str:
    return "\n\n".join(
        f"[{n}] ({p.chunk.location}) {p.chunk.text[:PASSAGE_CHARS]}" for n, p in enumerate(passages, start=1)
    )
