"""The gateway through real clients (the openai SDK, httpx) against the running system."""

import asyncio
import uuid

import httpx
import pytest
from openai import APIStatusError, AsyncOpenAI, NotFoundError, OpenAI


@pytest.fixture(scope="module")
def client(stack):
    with OpenAI(base_url=stack.base_url, api_key="unused", max_retries=0) as c:
        yield c


def new_conversation() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def stored(stack, conversation_id):
    response = httpx.get(f"{stack.base_url}/conversations/{conversation_id}")
    return response.json()["messages"] if response.status_code == 200 else None


def test_chat_completion_shape_usage_and_metadata(client):
    completion = client.chat.completions.create(
        model="chorus", messages=[{"role": "user", "content": "Compute the growth rate from 80 to 100."}]
    )
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.message.refusal is None and choice.finish_reason in ("stop", "length")
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    metadata = completion.metadata
    assert metadata["agents_used"] == "analyst,writer"
    assert float(metadata["execution_time_seconds"]) > 0 and metadata["iterations"] == "1"
    assert metadata["conversation_id"] == completion.conversation_id
    trace = completion.agent_trace
    assert [t["agent"] for t in trace] == ["analyst", "writer"]
    assert all(t["status"] == "ok" and t["duration_ms"] > 0 for t in trace)
    assert "25%" in choice.message.content


def test_headers_carry_request_id_conversation_and_agents(client):
    raw = client.chat.completions.with_raw_response.create(
        model="chorus",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"X-Conversation-Id": "from-header-" + uuid.uuid4().hex[:6]},
    )
    assert raw.headers["x-request-id"]
    assert raw.headers["x-conversation-id"].startswith("from-header-")
    assert raw.headers["x-agents-used"] == "writer"
    assert raw.parse().conversation_id == raw.headers["x-conversation-id"]


def test_stream_has_one_id_role_first_finish_last_usage_then_done(stack, client):
    chunks = list(
        client.chat.completions.create(
            model="chorus",
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "Hello there!"}],
            extra_body={"conversation_id": new_conversation()},
        )
    )
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].conversation_id
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finish) == 1 and finish[0].metadata["agents_used"] == "writer"
    assert finish[0].conversation_id == chunks[0].conversation_id
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    # the raw stream ends with [DONE]
    with httpx.stream(
        "POST",
        stack.base_url + "/chat/completions",
        timeout=60,
        json={"model": "chorus", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
    ) as r:
        lines = [line for line in r.iter_lines() if line]
        planned = r.headers["x-agents-used"]  # a stream's headers name the planned team
    assert lines[-1] == "data: [DONE]"
    assert planned == "writer"


def test_two_turns_sending_only_the_new_message(stack, client):
    conversation = new_conversation()
    client.chat.completions.create(
        model="chorus",
        extra_body={"conversation_id": conversation},
        temperature=0,
        messages=[{"role": "user", "content": "Hello, my name is Ada."}],
    )
    question = f"What is my name? ({conversation})"
    client.chat.completions.create(
        model="chorus",
        extra_body={"conversation_id": conversation},
        temperature=0,
        messages=[{"role": "user", "content": question}],
    )
    [asked] = [
        r for r in httpx.get(stack.llm.url.removesuffix("/v1") + "/fake/requests").json() if r["said"] == question
    ]
    assert any("my name is Ada" in str(text) for text in asked["context"])  # the first turn reached the LLM
    messages = stored(stack, conversation)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2]["content"] == question


def test_two_turns_resending_the_full_history(stack, client):
    conversation = new_conversation()
    history = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello."}]
    first = client.chat.completions.create(model="chorus", messages=history, metadata={"conversation_id": conversation})
    history += [
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "Now say goodbye."},
    ]
    client.chat.completions.create(model="chorus", messages=history, metadata={"conversation_id": conversation})
    messages = stored(stack, conversation)
    assert len(messages) == 4 and all(m["role"] != "system" for m in messages)


async def test_concurrent_turns_on_one_conversation_never_interleave(stack):
    conversation = new_conversation()
    async with AsyncOpenAI(base_url=stack.base_url, api_key="unused", max_retries=0) as aclient:
        await asyncio.gather(
            *(
                aclient.chat.completions.create(
                    model="chorus-writer",
                    max_tokens=8,
                    extra_body={"conversation_id": conversation},
                    messages=[{"role": "user", "content": f"Say the number {n}"}],
                )
                for n in range(6)
            )
        )
    messages = stored(stack, conversation)
    assert len(messages) == 12
    for user, answer in zip(messages[::2], messages[1::2]):
        assert user["role"] == "user" and answer["role"] == "assistant"
    assert sorted(m["content"] for m in messages[::2]) == [f"Say the number {n}" for n in range(6)]


def test_parameters_reach_the_writer(client):
    short = client.chat.completions.create(
        model="chorus-writer", max_tokens=3, messages=[{"role": "user", "content": "Write a long story."}]
    )
    assert short.choices[0].finish_reason == "length"
    assert short.usage.completion_tokens <= 5
    seeded = [
        client.chat.completions.create(
            model="chorus-writer",
            seed=7,
            temperature=1.0,
            max_tokens=20,
            messages=[{"role": "user", "content": "Name a colour."}],
        )
        .choices[0]
        .message.content
        for _ in range(2)
    ]
    assert seeded[0] == seeded[1]


def test_models_list_retrieve_and_unknown(client):
    ids = [m.id for m in client.models.list()]
    assert ids[:4] == ["chorus", "chorus-researcher", "chorus-analyst", "chorus-writer"]
    assert client.models.retrieve("chorus-analyst").id == "chorus-analyst"
    with pytest.raises(NotFoundError) as caught:
        client.models.retrieve("gpt-nonexistent")
    assert caught.value.body["code"] == "model_not_found"
    with pytest.raises(NotFoundError):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])


def test_one_agent_directly(client):
    answer = client.chat.completions.create(
        model="chorus-analyst", messages=[{"role": "user", "content": "what is 15% of 80?"}]
    )
    assert answer.metadata["agents_used"] == "analyst"
    assert "12" in answer.choices[0].message.content


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "chorus", "messages": []}, "messages"),
        ({"model": "chorus", "messages": [{"role": "wizard", "content": "x"}]}, "messages.0.role"),
        ({"model": "chorus", "messages": [{"role": "user", "content": "x"}], "temperature": 9}, "temperature"),
        (
            {"model": "chorus", "messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]},
            "stop",
        ),
        ({"model": "chorus", "messages": [{"role": "user", "content": "x"}], "n": 9}, "n"),
        (
            {
                "model": "chorus",
                "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": "function", "function": {"name": "not a name!"}}],
            },
            "tools.0.function.name",
        ),
        (
            {
                "model": "chorus",
                "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "wat"}}}],
            },
            "tools.0.function.parameters",
        ),
        (
            {
                "model": "chorus",
                "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "tool_choice": {"type": "function", "function": {"name": "g"}},
            },
            "tool_choice",
        ),
        ({"model": "chorus", "messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}, "tool_choice"),
        (
            {"model": "chorus", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "xml"}},
            "response_format.type",
        ),
        (
            {
                "model": "chorus",
                "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": 5}}},
            },
            "response_format.json_schema.schema",
        ),
        ({"model": "chorus", "messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}, "top_logprobs"),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
    ],
)
def test_bad_input_gets_an_openai_shaped_400_naming_the_field(stack, body, param):
    response = httpx.post(stack.base_url + "/chat/completions", json=body, timeout=60)
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert response.headers["x-request-id"]


def test_bad_json_and_oversized_bodies(stack):
    bad = httpx.post(
        stack.base_url + "/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]["message"]
    huge = httpx.post(
        stack.base_url + "/chat/completions",
        json={"model": "chorus", "messages": [{"role": "user", "content": "x" * 1_100_000}]},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "request_too_large"


def test_failed_turn_stores_nothing_and_keeps_what_was_stored(stack, client):
    conversation = new_conversation()
    client.chat.completions.create(
        model="chorus", extra_body={"conversation_id": conversation}, messages=[{"role": "user", "content": "hello"}]
    )
    with pytest.raises(APIStatusError):
        client.chat.completions.create(
            model="chorus",
            extra_body={"conversation_id": conversation},
            n=9,
            messages=[{"role": "user", "content": "again"}],
        )
    assert len(stored(stack, conversation)) == 2


def test_content_parts_unknown_fields_and_routes_without_v1(stack):
    parts = [{"role": "user", "content": [{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}]}]
    unknown = httpx.post(
        stack.url("gateway") + "/chat/completions",
        timeout=60,
        json={"model": "chorus", "some_future_field": {"x": 1}, "messages": parts},
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "some_future_field"  # as OpenAI
    response = httpx.post(
        stack.url("gateway") + "/chat/completions",
        timeout=60,
        json={"model": "chorus", "store": False, "messages": parts},
    )  # a field OpenAI defines is accepted
    assert response.status_code == 200
    conversation = response.json()["conversation_id"]
    assert stored(stack, conversation)[0]["content"] == "hello"


def test_legacy_completions(client):
    done = client.completions.create(model="chorus-writer", prompt=["Say", "hi"], max_tokens=10, echo=True)
    assert done.object == "text_completion"
    assert [c.index for c in done.choices] == [0, 1]  # one choice per prompt, each echoing its own
    assert done.choices[0].text.startswith("Say") and done.choices[1].text.startswith("hi")
    with pytest.raises(APIStatusError) as caught:
        client.completions.create(model="chorus", prompt="x", suffix="y")
    assert caught.value.status_code == 400


def test_embeddings_are_refused_clearly_when_not_configured(client):
    with pytest.raises(APIStatusError) as caught:
        client.embeddings.create(model="chorus", input="hello")
    assert caught.value.status_code == 400 and caught.value.body["code"] == "embeddings_not_configured"


def test_delete_conversation(stack, client):
    conversation = new_conversation()
    client.chat.completions.create(
        model="chorus", extra_body={"conversation_id": conversation}, messages=[{"role": "user", "content": "hi"}]
    )
    assert httpx.delete(f"{stack.base_url}/conversations/{conversation}").json()["deleted"] is True
    assert httpx.get(f"{stack.base_url}/conversations/{conversation}").status_code == 404


def test_conversation_survives_down_and_up(stack, client):
    conversation = new_conversation()
    client.chat.completions.create(
        model="chorus",
        extra_body={"conversation_id": conversation},
        messages=[{"role": "user", "content": "remember me"}],
    )
    before = stored(stack, conversation)
    stack.run("down")
    stack.run("up")
    assert stored(stack, conversation) == before
