"""Issue 11: the team's live progress as reasoning, keep-alive, and the chat platforms' conventions."""

import json
import uuid

import httpx
import pytest
from openai import OpenAI

RESEARCH = "Research what the docs say about Redis and compute the growth from 120 to 150."
AGENTS = ("Planning", "Researcher", "Analyst", "Writer")


@pytest.fixture(scope="module")
def client(stack):
    with OpenAI(base_url=stack.base_url, api_key="unused", max_retries=0, timeout=180) as c:
        yield c


def stored(stack, conversation_id) -> dict:
    return httpx.get(f"{stack.base_url}/conversations/{conversation_id}").json()


def sse_lines(stack, path: str, body: dict, headers: dict | None = None) -> list[str]:
    """Every line of a streamed answer, comments included, as the wire carried them."""
    with httpx.stream("POST", stack.url("gateway") + path, json=body, headers=headers or {}, timeout=180) as response:
        assert response.status_code == 200, response.read()
        return [line for line in response.iter_lines() if line]


def chunks_of(lines: list[str]) -> list[dict]:
    return [json.loads(line[6:]) for line in lines if line.startswith("data: {")]


def test_progress_streams_as_reasoning_before_the_answer_and_never_in_it(client):
    stream = client.chat.completions.create(
        model="chorus", stream=True, messages=[{"role": "user", "content": RESEARCH}]
    )
    order, reasoning, content = [], [], []
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        thought = (delta.model_extra or {}).get("reasoning_content")
        if thought:
            order.append("reasoning")
            reasoning.append(thought)
        if delta.content:
            order.append("content")
            content.append(delta.content)
    assert order and order[0] == "reasoning" and "content" in order
    assert order.index("content") > max(i for i, kind in enumerate(order) if kind == "reasoning")
    progress, answer = "".join(reasoning), "".join(content)
    assert progress.startswith("Planning: researcher and analyst, then the writer.")
    for line in ("Researcher: ", "Analyst: ", "Writer: answering."):
        assert line in progress
    assert "growth from 120 to 150 = 25%" in progress  # the analyst's real figure, not canned text
    assert not any(name + ":" in answer for name in AGENTS)


def test_a_whole_answer_carries_its_progress_and_a_request_can_switch_it_off(client):
    reply = client.chat.completions.create(model="chorus", messages=[{"role": "user", "content": RESEARCH}])
    progress = reply.choices[0].message.model_extra["reasoning_content"]
    assert progress.splitlines()[0] == "Planning: researcher and analyst, then the writer."
    assert "Analyst: growth from 120 to 150 = 25%." in progress.splitlines()
    quiet = client.chat.completions.create(
        model="chorus", messages=[{"role": "user", "content": RESEARCH}], extra_body={"chorus_progress": "none"}
    )
    assert "reasoning_content" not in (quiet.choices[0].message.model_extra or {})
    stream = client.chat.completions.create(
        model="chorus",
        stream=True,
        extra_body={"chorus_progress": "none"},
        messages=[{"role": "user", "content": "Hello there!"}],
    )
    assert not any((c.choices[0].delta.model_extra or {}).get("reasoning_content") for c in stream if c.choices)


def test_chat_deepseek_sees_the_progress(stack):
    from langchain_deepseek import ChatDeepSeek

    llm = ChatDeepSeek(model="chorus", api_base=stack.base_url, api_key="unused", max_retries=0, timeout=180)
    reply = llm.invoke(RESEARCH)
    assert reply.additional_kwargs["reasoning_content"].startswith("Planning: ")
    streamed = [chunk.additional_kwargs.get("reasoning_content", "") for chunk in llm.stream(RESEARCH)]
    assert "Analyst: growth from 120 to 150 = 25%." in "".join(streamed)


def vapi_body(call_id: str, messages: list[dict]) -> dict:
    """What Vapi's custom LLM posts (metadataSendMode: destructured puts metadata at the top level too)."""
    return {
        "model": "chorus-writer",
        "stream": True,
        "max_tokens": 30,
        "messages": messages,
        "call": {"id": call_id, "orgId": "org-1", "type": "inboundPhoneCall", "status": "in-progress"},
        "metadata": {"tier": 3, "account": {"id": "acct-9", "vip": True}, "campaign": "spring"},
        "phoneNumber": {"id": "pn-1", "number": "+15550100"},
        "customer": {"number": "+15550199", "name": "Ada"},
        "tier": 3,
    }


def test_a_vapi_call_streams_and_its_turns_are_kept_under_the_call_id(stack):
    call_id = f"call-{uuid.uuid4().hex[:8]}"
    question = {"role": "user", "content": "Say hello to the caller."}
    first = chunks_of(lines := sse_lines(stack, "/chat/completions", vapi_body(call_id, [question])))
    assert lines[-1] == "data: [DONE]"
    assert all(c["object"] == "chat.completion.chunk" for c in first)
    answer = "".join(c["choices"][0]["delta"].get("content") or "" for c in first if c["choices"])
    assert answer
    again = [question, {"role": "assistant", "content": answer}, {"role": "user", "content": "And goodbye."}]
    assert sse_lines(stack, "/chat/completions", vapi_body(call_id, again))[-1] == "data: [DONE]"
    conversation = stored(stack, call_id)
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant", "user", "assistant"]
    client = conversation["client"]
    assert client["call"]["id"] == call_id and client["customer"]["name"] == "Ada"
    assert client["phoneNumber"]["number"] == "+15550100" and client["metadata"]["account"]["vip"] is True


def test_an_open_webui_chat_is_kept_under_its_chat_id(stack, client):
    chat_id = str(uuid.uuid4())
    headers = {"X-OpenWebUI-Chat-Id": chat_id, "X-OpenWebUI-User-Id": "user-42"}
    u1 = {"role": "user", "content": "Say hi."}
    lines = sse_lines(stack, "/v1/chat/completions", {"model": "chorus", "stream": True, "messages": [u1]}, headers)
    statuses = [c["event"] for c in chunks_of(lines) if "event" in c]
    assert statuses and all(s["type"] == "status" for s in statuses)
    assert statuses[0]["data"]["description"].startswith("Planning: ") and statuses[-1]["data"]["done"] is True
    a1 = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks_of(lines) if c["choices"])
    client.chat.completions.create(
        model="chorus-writer",
        max_tokens=20,
        extra_headers=headers,
        messages=[
            {"role": "system", "content": "You are helpful."},
            u1,
            {"role": "assistant", "content": a1},
            {"role": "user", "content": "Name a colour."},
        ],
    )
    conversation = stored(stack, chat_id)
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant", "user", "assistant"]
    assert conversation["user"] == "user-42"


def test_a_client_that_sends_no_id_continues_its_conversation_by_its_history(client):
    u1 = {"role": "user", "content": f"Say hi to {uuid.uuid4().hex[:6]}."}
    first = client.chat.completions.with_raw_response.create(model="chorus-writer", max_tokens=20, messages=[u1])
    conversation_id = first.headers["x-conversation-id"]
    a1 = {"role": "assistant", "content": first.parse().choices[0].message.content}
    second = client.chat.completions.with_raw_response.create(
        model="chorus-writer", max_tokens=20, messages=[u1, a1, {"role": "user", "content": "Name a colour."}]
    )
    assert second.headers["x-conversation-id"] == conversation_id
    other = client.chat.completions.with_raw_response.create(  # a history nobody stored starts anew
        model="chorus-writer",
        max_tokens=20,
        messages=[u1, {"role": "assistant", "content": "Something else."}, {"role": "user", "content": "Hm?"}],
    )
    assert other.headers["x-conversation-id"] != conversation_id
