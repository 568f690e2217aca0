"""A scripted stand-in for a capable model, a real HTTP server named as a stand-in: there is no capable
model on this machine, so the tests of the capable profile script what one would answer.

    python -m bench.capable_model --port 18190

It is the fake LLM (bench/fake_llm.py) with scripts: a test registers, for a request of its own, the
replies a capable model would give to each of the team's real prompts, and reads back what the team
asked (`GET /fake/requests`). A request no script matches gets the fake's own reply.

`POST /fake/script` takes {"when": text of the user's request, and any of}:
- "plan": the planner's structured reply ({"agents": [...], "reason": ...}), or a string sent as it is
  (a malformed reply);
- "computations": the analyst's stated computations (a list), or a string sent as it is;
- "queries": the researcher's search queries (a list);
- "summary": the researcher's prose over its passages;
- "calls": tool calls the writer makes, [{"name", "arguments"}], each sent when its tool is offered
  (and tool_choice is not "none") and before any tool result has come back, or every time with
  "keep_calling": true (a model that never stops calling);
- "prose": the writer's text, once its calls (if any) have been answered.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from bench.fake_llm import main

STRUCTURED = {"plan": None, "computations": "computations", "queries": "queries"}  # schema name -> wrapping key


class Scripts:
    def __init__(self) -> None:
        self.scripts: list[dict[str, Any]] = []

    def add(self, script: dict[str, Any]) -> None:
        self.scripts.append(script)

    def find(self, messages: list[dict[str, Any]]) -> dict[str, Any] | None:
        said = " ".join(str(m.get("content") or "") for m in messages if m.get("role") == "user")
        return next((s for s in reversed(self.scripts) if s["when"] in said), None)

    def reply(self, body: dict[str, Any]) -> dict[str, Any] | None:
        messages = body.get("messages") or []
        script = self.find(messages)
        if script is None:
            return None
        name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
        if name in STRUCTURED:
            if name not in script:
                return None
            value = script[name]
            if isinstance(value, str):
                return {"content": value}  # as scripted: a malformed reply
            wrapping = STRUCTURED[name]
            return {"content": json.dumps({wrapping: value} if wrapping else value)}
        if body.get("response_format"):
            return None
        system = next((str(m.get("content")) for m in messages if m.get("role") == "system"), "")
        if system.startswith("You are a researcher"):
            return {"content": script["summary"]} if "summary" in script else None
        offered = {t.get("function", {}).get("name") for t in body.get("tools") or []}
        answered = any(m.get("role") == "tool" for m in messages) and not script.get("keep_calling")
        calls = [c for c in script.get("calls", []) if c["name"] in offered]
        if calls and not answered and body.get("tool_choice") != "none":
            return {
                "tool_calls": [
                    {
                        "id": f"call_{uuid.uuid4().hex[:12]}",
                        "type": "function",
                        "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
                    }
                    for c in calls
                ]
            }
        return {"content": script["prose"]} if "prose" in script else None


if __name__ == "__main__":
    main("bench.capable_model", __doc__, Scripts())
