"""Team members that are not Chorus agents: any OpenAI-compatible endpoint, declared in the team file.

A member gets the request and the conversation's recent turns as a chat, and its streamed reply is
its finding. The reply is also the finding's one source, cited by the member's name, so that the
writer quotes it and the grounding check lets its numbers through, as it does a passage's.
"""

from __future__ import annotations

import os
import time

import aiohttp
import orjson

from config.team import Member
from orchestration.protocol import AgentCallError, Source, TaskRequest, TaskResult, Usage
from orchestration.sse import events_of

HISTORY_TURNS = 6  # the recent turns a member sees, beside the request
SOURCE_CHARS = 700  # as much of its reply as the grounding check and the quotes see, as of a passage


async def ask_member(session: aiohttp.ClientSession, member: Member, task: TaskRequest) -> TaskResult:
    """The member's reply to the request, as a task result; an AgentCallError if it cannot give one
    (unreachable, refused, malformed): the supervisor's circuit and deadline handle it as any agent's."""
    started = time.perf_counter()
    earlier = [{"role": m.role, "content": m.content} for m in task.messages if m.role in ("user", "assistant")]
    if earlier and earlier[-1]["role"] == "user" and earlier[-1]["content"] == task.instruction:
        earlier = earlier[:-1]  # the history may end with this very request
    body = {
        "model": member.model,
        "messages": [*earlier[-HISTORY_TURNS:], {"role": "user", "content": task.instruction}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    key = os.environ.get(member.api_key_env, "") if member.api_key_env else ""
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {key}"} if key else {})}
    parts: list[str] = []
    usage: dict[str, int] = {}
    try:
        async with session.post(
            f"{member.url.rstrip('/')}/chat/completions", data=orjson.dumps(body), headers=headers
        ) as reply:
            if reply.status != 200:
                raise AgentCallError(f"the member {member.name} answered HTTP {reply.status}")
            async for _, data in events_of(reply.content.iter_any()):
                if data.strip() == b"[DONE]":
                    break
                chunk = orjson.loads(data)
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    parts.append((choice.get("delta") or {}).get("content") or "")
    except aiohttp.ClientError as error:
        raise AgentCallError(
            f"the member {member.name} could not be reached or broke off: {type(error).__name__}"
        ) from error
    except (orjson.JSONDecodeError, AttributeError, TypeError) as error:
        raise AgentCallError(f"the member {member.name} sent a malformed reply") from error
    text = "".join(parts).strip()
    if not text:
        raise AgentCallError(f"the member {member.name} gave an empty reply")
    return TaskResult(
        task_id=task.task_id,
        agent=member.name,
        output=text,
        sources=[Source(ref=1, title=member.name, location=member.name, snippet=text[:SOURCE_CHARS])],
        usage=Usage(
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            total_tokens=usage.get("total_tokens", 0),
        ),
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
        llm_ms=round((time.perf_counter() - started) * 1000, 1),
    )
