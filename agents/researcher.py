"""The researcher: finds passages in the knowledge base (and the web, if configured) and cites them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents.base import Agent, Gathered, LLMClients
from agents.knowledge import KnowledgeBase, Passage, knowledge_store
from agents.quoting import quoted
from agents.understanding import searching
from agents.web_search import WebSearch
from config import Settings
from orchestration.protocol import Source, TaskRequest

log = logging.getLogger(__name__)
PASSAGE_CHARS = 700  # what the LLM reads of a passage, and what the grounding check sees of it
# BM25 over an index of this size takes less time than a hop to a worker thread: only a larger
# index is searched off the event loop.
INLINE_SEARCH_CHUNKS = 10_000
NOTHING_RELEVANT = "The knowledge base has nothing relevant to this request."
PASSAGES = 4  # passages a request gets, over all its queries


class Researcher(Agent):
    name = "researcher"
    system_prompt = (
        "You are a researcher. Summarise what the numbered passages say about the task in a few "
        "sentences. Cite passages by their number, like [1]. Use only the passages."
    )

    async def _search(self, query: str) -> list[Passage]:
        coverage = self.settings.research_min_coverage
        if len(self.knowledge.chunks) <= INLINE_SEARCH_CHUNKS:
            return self.knowledge.search(query, PASSAGES, coverage)
        return await asyncio.to_thread(self.knowledge.search, query, PASSAGES, coverage)

    def __init__(self, settings: Settings, llm: LLMClients | None = None, web: WebSearch | None = None):
        super().__init__(settings, llm)
        self.web = web
        self.knowledge = KnowledgeBase([])
        self.searching = searching(settings, llm.chat if llm else None)

    async def start(self) -> None:
        folder = self.settings.resolve(self.settings.knowledge_dir)
        self.knowledge, report = await asyncio.to_thread(KnowledgeBase.load, folder, knowledge_store(self.settings))
        log.info("knowledge base %s: %s", folder, report)

    async def gather(self, task: TaskRequest) -> Gathered:
        async with self.llm_slot(task, self.searching.model):
            decided = await self.searching.queries(task)
        queries, how = decided.value, decided.how
        passages: list[Passage] = []
        for query in queries:  # each question of a compound request gets its passages
            passages += [p for p in await self._search(query) if all(p.chunk is not q.chunk for q in passages)]
        if len(queries) > 1:
            passages = sorted(passages, key=lambda p: -p.score)[:PASSAGES]
        query = " ".join(queries)
        if self.web is not None and self.web.enabled:
            try:
                passages += await self.web.search(query)
            except Exception as error:  # the web is optional: say so, keep the local findings
                log.warning("web search failed: %s", error)
        gathered = self._gathered(query, passages, {"queries": queries, "understood_by": how})
        gathered.detail += f"; queries by {how}"
        gathered.llm_seconds = decided.waited
        return gathered

    def _gathered(self, query: str, passages: list[Passage], data: dict[str, Any]) -> Gathered:
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
                facts="",
                detail="0 relevant passages",
                complete=True,
                data={"empty": True, **data},
                preamble=NOTHING_RELEVANT,
            )
        footer = "\n\nSources: " + "; ".join(f"[{s.ref}] {s.location}" for s in sources)
        if self.searching.quotes:  # the passages' words, not a summary
            return Gathered(
                facts="",
                sources=sources,
                data=data,
                detail=f"{len(passages)} passages, quoted",
                preamble=quoted(query, sources) or _numbered(passages),
                footer=footer,
                complete=True,
            )
        return Gathered(
            facts=_numbered(passages), sources=sources, data=data, detail=f"{len(passages)} passages", footer=footer
        )


def _numbered(passages: list[Passage]) -> str:
    return "\n\n".join(
        f"[{n}] ({p.chunk.location}) {p.chunk.text[:PASSAGE_CHARS]}" for n, p in enumerate(passages, start=1)
    )
