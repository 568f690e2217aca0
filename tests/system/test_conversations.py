"""Conversations are kept as the client sees them, and belong to the key that made them."""

import uuid

import httpx
import pytest
from openai import NotFoundError, OpenAI

from servers.gateway import create_app
from tests.helpers import ServerThread, gateway_settings


@pytest.fixture(scope="module")
def client(stack):
    with OpenAI(base_url=stack.base_url, api_key="unused", max_retries=0, timeout=180) as c:
        yield c


def stored(stack, conversation_id) -> list[dict]:
    return httpx.get(f"{stack.base_url}/conversations/{conversation_id}").json()["messages"]


def say(client, conversation_id, messages):
    reply = client.chat.completions.create(
        model="chorus-writer", messages=messages, max_tokens=20, extra_body={"conversation_id": conversation_id}
    )
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
    first = {"role": "user", "content": "Say hello."}
    say(client, conv, [first, a1, edited])  # the very first question edited: nothing lines up now
    assert [m["content"] for m in stored(stack, conv)][:3] == ["Say hello.", a1["content"], "Name a fruit."]
    assert len(stored(stack, conv)) == 4


def test_concurrent_turns_of_one_conversation_are_each_stored_once(stack):
    import asyncio

    from openai import AsyncOpenAI

    conv = f"together-{uuid.uuid4().hex[:8]}"

    async def turns():
        async with AsyncOpenAI(base_url=stack.base_url, api_key="unused", max_retries=0, timeout=180) as c:
            await asyncio.gather(
                *(
                    c.chat.completions.create(
                        model="chorus-writer",
                        max_tokens=10,
                        extra_body={"conversation_id": conv},
                        messages=[{"role": "user", "content": f"Say the number {i}."}],
                    )
                    for i in range(4)
                )
            )

    asyncio.run(turns())
    messages = stored(stack, conv)
    questions = sorted(m["content"] for m in messages if m["role"] == "user")
    assert questions == [f"Say the number {i}." for i in range(4)] and len(messages) == 8
    assert all(messages[i]["role"] == "user" and messages[i + 1]["role"] == "assistant" for i in range(0, 8, 2))


def test_a_conversation_is_invisible_to_every_other_key(stack):
    settings = gateway_settings(stack, api_keys="key-one,key-two")
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


def test_each_key_lists_its_own_conversations_newest_first_in_pages(stack):
    import redis

    keys = [f"lister-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with ServerThread(create_app(gateway_settings(stack, api_keys=",".join(keys)))) as gateway:
        one, two = (OpenAI(base_url=gateway.url + "/v1", api_key=k, max_retries=0, timeout=180) for k in keys)
        ask = {"model": "chorus-writer", "max_tokens": 8}
        first = one.chat.completions.create(messages=[{"role": "user", "content": "  Say   hi.\n"}], **ask)
        second = one.chat.completions.create(messages=[{"role": "user", "content": "Name a colour."}], **ask)
        theirs = two.chat.completions.create(messages=[{"role": "user", "content": "Name a fruit."}], **ask)
        one.chat.completions.create(
            messages=[{"role": "user", "content": "And another?"}],
            extra_body={"conversation_id": first.conversation_id},
            **ask,
        )

        def listed(key, **params):
            return httpx.get(
                f"{gateway.url}/v1/conversations", params=params, headers={"authorization": f"Bearer {key}"}
            ).json()

        mine = listed(keys[0])
        assert [c["id"] for c in mine["data"]] == [first.conversation_id, second.conversation_id]  # by last update
        assert mine["data"][0]["title"] == "Say hi." and mine["data"][0]["message_count"] == 4
        assert [c["id"] for c in listed(keys[1])["data"]] == [theirs.conversation_id]
        page = listed(keys[0], limit=1)
        assert page["has_more"] and [c["id"] for c in page["data"]] == [first.conversation_id]
        rest = listed(keys[0], limit=1, before=page["next_before"])
        assert not rest["has_more"] and [c["id"] for c in rest["data"]] == [second.conversation_id]

        redis.Redis(port=stack.ports["redis"]).delete(f"chorus:conversation:{second.conversation_id}")  # expired
        assert [c["id"] for c in listed(keys[0])["data"]] == [first.conversation_id]
        httpx.delete(
            f"{gateway.url}/v1/conversations/{first.conversation_id}", headers={"authorization": f"Bearer {keys[0]}"}
        )
        assert listed(keys[0])["data"] == []
        refused = httpx.get(
            f"{gateway.url}/v1/conversations", params={"limit": 0}, headers={"authorization": f"Bearer {keys[0]}"}
        )
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "limit"
