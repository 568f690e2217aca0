"""The chat model an agent talks to: any OpenAI-compatible endpoint, through langchain-openai."""

from __future__ import annotations

import httpx
from langchain_openai import ChatOpenAI

from config import Settings
from config.settings import AgentRole


def make_chat_model(settings: Settings, role: AgentRole, http: httpx.AsyncClient) -> ChatOpenAI:
    llm = settings.llm_for(role)
    return ChatOpenAI(
        base_url=llm.base_url,
        model=llm.model,
        api_key=llm.api_key,
        temperature=llm.temperature,
        timeout=llm.timeout,
        max_retries=0,  # retries live in one layer (the TaskClient); an LLM that is down fails fast
        http_async_client=http,  # the process's shared, pooled client
    )
