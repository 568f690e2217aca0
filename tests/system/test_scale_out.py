"""Stateless tiers on shared Redis: two gateway processes behave as one service, and a gateway on
Redis Sentinel follows a failover without losing an acknowledged turn."""

import uuid

import httpx
import pytest
from openai import OpenAI, RateLimitError

from tests.helpers import ServerProcess, free_port, start_of_a_window
from tests.sentinel_group import on_loopback


def gateway_env(stack, port: int, **settings: str) -> dict[str, str]:
    """A gateway process in front of the stack's team: the stack's settings, its own port."""
    token = (stack.root / "run" / "internal_token").read_text().strip()
    return (
        stack.env
        | {
            "GATEWAY_PORT": str(port),
            "INTERNAL_TOKEN": token,
            "LOG_FORMAT": "text",
            "EMBEDDED_REDIS": "off",
            "EMBEDDED_LLM": "off",
        }
        | settings
    )


def gateway(stack, tmp_path, **settings: str) -> ServerProcess:
    port = free_port()
    return ServerProcess(
        "gateway", gateway_env(stack, port, **settings), f"http://127.0.0.1:{port}", tmp_path / f"gateway-{port}.log"
    )


def test_two_gateway_processes_share_conversations_and_limits(stack, tmp_path):
    key = f"shared-{uuid.uuid4().hex[:8]}"
    limits = {"API_KEYS": key, "RATE_LIMIT_REQUESTS_PER_MINUTE": "4"}
    with gateway(stack, tmp_path, **limits) as one, gateway(stack, tmp_path, **limits) as two:
        clients = [OpenAI(base_url=g.url + "/v1", api_key=key, max_retries=0, timeout=180) for g in (one, two)]
        ask = {"model": "chorus-writer", "max_tokens": 8}
        start_of_a_window()
        first = clients[0].chat.completions.create(messages=[{"role": "user", "content": "Say hi."}], **ask)
        clients[1].chat.completions.create(
            messages=[{"role": "user", "content": "Name a colour."}],
            extra_body={"conversation_id": first.conversation_id},
            **ask,
        )
        stored = httpx.get(
            f"{one.url}/v1/conversations/{first.conversation_id}", headers={"authorization": f"Bearer {key}"}
        ).json()["messages"]
        assert [m["content"] for m in stored if m["role"] == "user"] == ["Say hi.", "Name a colour."]
        for client in clients:  # the 3rd and 4th requests of this minute, one through each
            client.chat.completions.create(messages=[{"role": "user", "content": "Hi."}], **ask)
        for client in clients:  # the key's 4 a minute are spent, whichever gateway counts them
            with pytest.raises(RateLimitError):
                client.chat.completions.create(messages=[{"role": "user", "content": "Hi."}], **ask)


def test_a_gateway_on_sentinel_follows_a_failover_and_keeps_every_acknowledged_turn(stack, tmp_path):
    group = on_loopback(tmp_path).start()
    try:
        group.wait_ready()
        sentinel = {
            "REDIS_SENTINELS": group.sentinel_list,
            "REDIS_SENTINEL_MASTER": "chorus",
            "REDIS_WAIT_REPLICAS": "1",
            "REDIS_URL": "redis://unused:6379/0",
        }
        with gateway(stack, tmp_path, **sentinel) as through_sentinel:
            client = OpenAI(base_url=through_sentinel.url + "/v1", api_key="unused", max_retries=0, timeout=180)
            ask = {"model": "chorus-writer", "max_tokens": 8}
            first = client.chat.completions.create(messages=[{"role": "user", "content": "Say hi."}], **ask)
            group.kill_master()
            refusals = []
            for _ in range(200):  # until the sentinels have promoted the replica (a liveness guard)
                answer = httpx.post(
                    f"{through_sentinel.url}/v1/chat/completions",
                    timeout=180,
                    json={
                        **ask,
                        "conversation_id": first.conversation_id,
                        "messages": [{"role": "user", "content": "Name a colour."}],
                    },
                )
                if answer.status_code == 200:
                    break
                refusals.append((answer.status_code, answer.json()["error"]["code"]))
            assert answer.status_code == 200, refusals[-3:]
            assert set(refusals) <= {(503, "conversation_store_unavailable")}  # clean errors meanwhile
            assert group.master_address() == ("127.0.0.1", group.replica.port)
            stored = httpx.get(f"{through_sentinel.url}/v1/conversations/{first.conversation_id}").json()
            assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == ["Say hi.", "Name a colour."]
    finally:
        group.stop()
