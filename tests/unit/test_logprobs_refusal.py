"""logprobs are refused before any work when the final voice's LLM cannot give them.

The gateway runs in-process (TestClient); the refusal comes before Redis or the team is reached,
so neither is started here.
"""

from fastapi.testclient import TestClient

from config.settings import Settings
from servers.gateway import create_app


def ask(settings: Settings, model: str, **extra) -> dict:
    with TestClient(create_app(settings)) as client:
        reply = client.post(
            "/v1/chat/completions",
            json={"model": model, "logprobs": True, "messages": [{"role": "user", "content": "hi"}], **extra},
        )
    return {"status": reply.status_code, **reply.json()}


def test_an_endpoint_without_logprobs_gets_a_400_naming_the_setting():
    refused = ask(Settings(_env_file=None, writer_llm={"logprobs": False}), "chorus")
    assert refused["status"] == 400
    assert refused["error"]["code"] == "logprobs_unsupported" and refused["error"]["param"] == "logprobs"
    assert "WRITER_LLM_LOGPROBS" in refused["error"]["message"]


def test_the_analyst_has_no_llm_so_no_logprobs():
    refused = ask(Settings(_env_file=None), "chorus-analyst")
    assert refused["status"] == 400 and "no LLM" in refused["error"]["message"]


def test_legacy_completions_integer_logprobs_are_refused_the_same_way():
    with TestClient(create_app(Settings(_env_file=None, llm_logprobs=False))) as client:
        reply = client.post("/v1/completions", json={"model": "chorus", "prompt": "hi", "logprobs": 2})
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "logprobs_unsupported"
