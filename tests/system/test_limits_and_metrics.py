"""Limits (sizes, per-key rates in Redis) and metrics, on the real stack."""

import httpx
import pytest
from openai import OpenAI, RateLimitError

from servers.gateway import create_app
from tests.helpers import ServerThread, gateway_settings, start_of_a_window

WHAT = {"model": "chorus-analyst", "messages": [{"role": "user", "content": "What is 6 * 7?"}]}


@pytest.mark.parametrize(
    "change, param, code",
    [
        ({"n": 9}, "n", "n_too_large"),
        ({"max_tokens": 5000}, "max_tokens", "max_tokens_too_large"),
        ({"messages": [{"role": "user", "content": "hi"}] * 501}, "messages", "too_many_messages"),
        ({"messages": [{"role": "user", "content": "x" * 200_001}]}, "messages", "message_too_long"),
    ],
)
def test_requests_over_the_size_caps_get_a_400_naming_the_parameter(stack, change, param, code):
    refused = httpx.post(stack.base_url + "/chat/completions", json={**WHAT, **change}, timeout=30)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["param"] == param and refused.json()["error"]["code"] == code


def test_a_key_over_its_request_rate_gets_a_429_with_retry_after_and_other_keys_do_not(stack):
    settings = gateway_settings(stack, api_keys="key-a,key-b", rate_limit_requests_per_minute=3)
    start_of_a_window()
    with ServerThread(create_app(settings)) as gateway:

        def ask(key: str) -> httpx.Response:
            return httpx.post(
                gateway.url + "/v1/chat/completions", json=WHAT, timeout=60, headers={"authorization": f"Bearer {key}"}
            )

        allowed = [ask("key-a") for _ in range(3)]
        refused = ask("key-a")
        other = ask("key-b")
        sdk = OpenAI(base_url=gateway.url + "/v1", api_key="key-a", max_retries=0)
        with pytest.raises(RateLimitError) as raised:
            sdk.chat.completions.create(**WHAT)
    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining-requests"] for r in allowed] == ["2", "1", "0"]
    assert all(r.headers["x-ratelimit-limit-requests"] == "3" for r in allowed)
    assert refused.status_code == 429 and refused.json()["error"]["type"] == "rate_limit_error"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-reset-requests"].endswith("s")
    assert other.status_code == 200 and other.headers["x-ratelimit-remaining-requests"] == "2"
    assert raised.value.status_code == 429


def test_a_key_over_its_token_rate_gets_a_429(stack):
    settings = gateway_settings(stack, rate_limit_tokens_per_minute=5)
    start_of_a_window()
    with ServerThread(create_app(settings)) as gateway:
        first = httpx.post(gateway.url + "/v1/chat/completions", json=WHAT, timeout=60)
        second = httpx.post(gateway.url + "/v1/chat/completions", json=WHAT, timeout=60)
    assert first.status_code == 200 and first.headers["x-ratelimit-remaining-tokens"] == "5"
    assert first.json()["usage"]["total_tokens"] >= 5  # charged to the key's minute when it ended
    assert second.status_code == 429 and "5 tokens per minute" in second.json()["error"]["message"]
    assert second.headers["x-ratelimit-remaining-tokens"] == "0"


def test_every_server_serves_prometheus_metrics_with_per_agent_labels(stack):
    reply = httpx.post(
        stack.base_url + "/chat/completions",
        timeout=120,
        json={
            "model": "chorus",
            "messages": [
                {
                    "role": "user",
                    "content": "Research what the docs say about Redis and compute the growth from 120 to 150.",
                }
            ],
        },
    )
    assert reply.status_code == 200
    texts = {
        name: httpx.get(stack.url(name) + "/metrics").text
        for name in ("gateway", "supervisor", "researcher", "analyst", "writer")
    }
    for name, text in texts.items():
        assert f'chorus_requests_total{{method="POST",process="{name}"' in text, name
        assert "chorus_request_duration_seconds_bucket" in text and "chorus_active_streams" in text, name
    assert 'chorus_tokens_total{kind="completion"}' in texts["gateway"]
    assert 'chorus_agent_calls_total{agent="analyst",status="ok"}' in texts["supervisor"]
    assert 'chorus_agent_call_duration_seconds_count{agent="writer"}' in texts["supervisor"]
    assert 'chorus_circuit_open{agent="writer"} 0.0' in texts["supervisor"]
    assert 'route="/v1/tasks"' in texts["analyst"]


def test_metrics_can_take_a_token_of_their_own(stack):
    with ServerThread(create_app(gateway_settings(stack, metrics_token="scrape-me", api_keys="k"))) as gateway:
        without = httpx.get(gateway.url + "/metrics")
        api_key = httpx.get(gateway.url + "/metrics", headers={"authorization": "Bearer k"})
        scraped = httpx.get(gateway.url + "/metrics", headers={"authorization": "Bearer scrape-me"})
    assert without.status_code == 401 and api_key.status_code == 401
    assert scraped.status_code == 200 and "chorus_requests_total" in scraped.text
