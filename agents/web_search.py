"""Optional web search behind the researcher's tool interface: SearxNG or Tavily, when configured."""

from __future__ import annotations

import httpx

from agents.knowledge import Chunk, Passage
from config import Settings


class WebSearch:
    def __init__(self, settings: Settings, http: httpx.AsyncClient):
        self.provider = settings.web_search_provider
        self.url = settings.web_search_url
        self.api_key = settings.web_search_api_key.get_secret_value()
        self.http = http

    @property
    def enabled(self) -> bool:
        return self.provider != "none" and bool(self.url)

    async def search(self, query: str, k: int = 3) -> list[Passage]:
        if self.provider == "searxng":
            response = await self.http.get(f"{self.url}/search", params={"q": query, "format": "json"}, timeout=10)
            response.raise_for_status()
            items = response.json().get("results", [])[:k]
            return [
                _passage(i.get("url", ""), i.get("title", ""), i.get("content", ""), k - n) for n, i in enumerate(items)
            ]
        if self.provider == "tavily":
            response = await self.http.post(
                f"{self.url}/search",
                json={"query": query, "max_results": k},
                headers={"authorization": f"Bearer {self.api_key}"},
                timeout=15,
            )
            response.raise_for_status()
            items = response.json().get("results", [])[:k]
            return [
                _passage(i.get("url", ""), i.get("title", ""), i.get("content", ""), float(i.get("score", 0)))
                for i in items
            ]
        return []


def _passage(url: str, title: str, text: str, score: float) -> Passage:
    return Passage(Chunk(path=url, heading=title, text=text), float(score), 1.0)
