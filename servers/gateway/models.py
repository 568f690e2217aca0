"""The models the gateway serves: the team, each agent directly, and configured aliases."""

from __future__ import annotations

import time
from typing import Any, cast

from config import Settings
from config.settings import LLMRole
from orchestration.protocol import AGENT_NAMES
from servers.gateway.errors import BadRequest, NotFound

CREATED = int(time.time())


class Models:
    """`chorus` is the whole team; `chorus-<agent>` reaches one agent directly; aliases map onto them."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.team = settings.model_name
        self.urls = {self.team: settings.agent_url("supervisor")}
        for agent in AGENT_NAMES:
            self.urls[f"{self.team}-{agent}"] = settings.agent_url(agent)
        self.aliases = settings.model_alias_map

    def ids(self) -> list[str]:
        return [*self.urls, *self.aliases]

    def url_for(self, model: str) -> str:
        target = self.aliases.get(model, model)
        if target not in self.urls:
            raise NotFound(
                f"The model '{model}' does not exist. Available: {', '.join(self.ids())}.",
                param="model",
                code="model_not_found",
            )
        return self.urls[target]

    def direct_agent(self, model: str) -> str | None:
        """The agent a `chorus-<agent>` model reaches; None for the whole team."""
        target = self.aliases.get(model, model)
        return target.removeprefix(f"{self.team}-") if target != self.team else None

    def refuse_unavailable_logprobs(self, model: str) -> None:
        """Logprobs come from the LLM of the final voice (the writer, or the agent reached directly);
        an endpoint that cannot give them, or the analyst (which computes, with no LLM), is refused up front."""
        voice = self.direct_agent(model) or "writer"
        if voice == "supervisor":
            voice = "writer"
        if voice == "analyst":
            reason = "the analyst computes its answers with no LLM"
        elif not self.settings.llm_for(cast(LLMRole, voice)).logprobs:
            reason = f"the {voice}'s LLM endpoint does not provide them ({voice.upper()}_LLM_LOGPROBS)"
        else:
            return
        raise BadRequest(
            f"logprobs are not available from '{model}': {reason}.", param="logprobs", code="logprobs_unsupported"
        )

    def card(self, model: str) -> dict[str, Any]:
        self.url_for(model)
        return {"id": model, "object": "model", "created": CREATED, "owned_by": "chorus"}
