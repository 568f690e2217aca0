"""Conversations are kept as the client sees them, and belong to the key that made them."""

import uuid

import httpx
import pytest
from openai import NotFoundError, OpenAI

from config.settings import Settings
from servers.gateway import create_app
from tests.helpers import ServerThread


@pytest.fixture(scope="module")
def client(stack):
    with OpenAI(base_url=stack.base_url, api_key="unused", max_retries=0, timeout=180) as c:
        yield c


def stored(stack, conversation_id) -> list[dict]:
    return httpx.get(f"{stack.base_url}/conversations/{conversation_id}").json()["messages"]


def say(client, conversation_id, messages):
    reply = client.chat.completions.create(model="chorus-writer", messages=messages, max_tokens=20,
                                           extra_body={"conversation_id": conversation_id})
    return {"role": "assistant", "content": reply.choices[0].message.content}


def test_regenerate_replaces_the_last_answer_and_an_edit_replaces_the_tail(stack, client):
    conv = f"history-{uuid.uuid4().hex[:8]}"
    u1, u2 = {"role": "user", "content": "Say hi."}, {"role": "user", "content": "Name a colour."}
    a1 = say(client, conv, [u1])
    say(client, conv, [u1, a1, u2])
    assert len(stored(stack, conv)) == 4
    say(client, conv, [u1, a1, u2])  # what a chat UI's "regenerate" sends
    after = stored(stack, conv)
    assert [m["role"] for m in after] == ["user", "assistant", "user", "assistant"]
    edited = {"role": "user", "content": "Name a fruit."}
    say(client, conv, [u1, a1, edited])  # the second question edited, and sent again
    assert [m["content"] for m in stored(stack, conv)][:3] == ["Say hi.", a1["content"], "Name a fruit."]
    assert len(stored(stack, conv)) == 4


def test_concurrent_turns_of_one_conversation_are_each_stored_once(stack):
    import asyncio

    from openai import AsyncOpenAI

    conv = f"together-{uuid.uuid4().hex[:8]}"

    async def turns():
        async with AsyncOpenAI(base_url=stack.base_url, api_key="unused", max_retries=0, timeout=180) as c:
            await asyncio.gather(*(c.chat.completions.create(
                model="chorus-writer", max_tokens=10, extra_body={"conversation_id": conv},
                messages=[{"role": "user", "content": f"Say the number {i}."}]) for i in range(4)))

    asyncio.run(turns())
    messages = stored(stack, conv)
    questions = sorted(m["content"] for m in messages if m["role"] == "user")
    assert questions == [f"Say the number {i}." for i in range(4)] and len(messages) == 8
    assert all(messages[i]["role"] == "user" and messages[i + 1]["role"] == "assistant" for i in range(0, 8, 2))


def test_a_conversation_is_invisible_to_every_other_key(stack):
    settings = Settings(_env_file=None, api_keys="key-one,key-two",
                        redis_url=f"redis://127.0.0.1:{stack.ports['redis']}/0",
                        supervisor_url=stack.url("supervisor"), writer_url=stack.url("writer"),
                        internal_token=stack.internal["authorization"].removeprefix("Bearer "))
    conv = f"owned-{uuid.uuid4().hex[:8]}"
    with ServerThread(create_app(settings)) as gateway:
        one = OpenAI(base_url=gateway.url + "/v1", api_key="key-one", max_retries=0, timeout=180)
        two = OpenAI(base_url=gateway.url + "/v1", api_key="key-two", max_retries=0, timeout=180)
        ask = {"model": "chorus-writer", "max_tokens": 10, "extra_body": {"conversation_id": conv}}
        one.chat.completions.create(messages=[{"role": "user", "content": "hi"}], **ask)
        with pytest.raises(NotFoundError):  # continuing it
            two.chat.completions.create(messages=[{"role": "user", "content": "what did I say?"}], **ask)
        url = f"{gateway.url}/v1/conversations/{conv}"
        as_two = {"authorization": "Bearer key-two"}
        assert httpx.get(url, headers=as_two).status_code == 404  # reading it
        assert httpx.delete(url, headers=as_two).status_code == 404  # deleting it
        mine = httpx.get(url, headers={"authorization": "Bearer key-one"})
        assert mine.status_code == 200 and len(mine.json()["messages"]) == 2
        response = one.responses.create(model="chorus-writer", input="hi", max_output_tokens=16)
        with pytest.raises(NotFoundError):
            two.responses.retrieve(response.id)
        with pytest.raises(NotFoundError):
            two.responses.create(model="chorus-writer", input="and?", previous_response_id=response.id)
