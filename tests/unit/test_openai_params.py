"""Unknown request parameters: a 400 naming them, as OpenAI answers; what OpenAI defines is accepted."""

import json
from pathlib import Path

import httpx
import pytest

from config.settings import Settings
from servers.gateway import create_app
from servers.gateway.openai_params import OPENAI_PARAMS
from tests.helpers import ROOT, ServerThread

SPEC = ROOT.parent / "shared" / "openai-openapi.json"
SCHEMAS = {
    "chat": "CreateChatCompletionRequest",
    "completions": "CreateCompletionRequest",
    "responses": "CreateResponse",
    "embeddings": "CreateEmbeddingRequest",
}


def spec_properties(schemas: dict, name: str) -> set[str]:
    found: set[str] = set()

    def walk(schema: dict) -> None:
        if "$ref" in schema:
            walk(schemas[schema["$ref"].rsplit("/", 1)[-1]])
            return
        for key in ("allOf", "anyOf", "oneOf"):
            for part in schema.get(key, []):
                walk(part)
        found.update(schema.get("properties", {}))

    walk(schemas[name])
    return found


def test_the_parameter_lists_are_openais_published_ones():
    schemas = json.loads(Path(SPEC).read_text())["components"]["schemas"]
    for api, name in SCHEMAS.items():
        assert OPENAI_PARAMS[api] == spec_properties(schemas, name), api


@pytest.fixture(scope="module")
def gateways():
    # nothing reaches the team: the refusal comes first, before any work
    with (
        ServerThread(create_app(Settings(_env_file=None))) as strict,
        ServerThread(create_app(Settings(_env_file=None, strict_params=False))) as lenient,
    ):
        yield strict, lenient


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": "chorus", "messages": [{"role": "user", "content": "hi"}], "max_token": 5}),
        ("/v1/completions", {"model": "chorus", "prompt": "hi", "max_token": 5}),
        ("/v1/responses", {"model": "chorus", "input": "hi", "max_token": 5}),
        ("/v1/embeddings", {"model": "chorus", "input": "hi", "max_token": 5}),
    ],
)
def test_an_unknown_parameter_is_a_400_naming_it(gateways, path, body):
    strict, _ = gateways
    reply = httpx.post(strict.url + path, json=body, timeout=30)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["param"] == "max_token" and "max_token" in error["message"]
    assert error["type"] == "invalid_request_error" and error["code"] == "unknown_parameter"


def test_parameters_openai_defines_are_not_refused_and_strict_params_false_accepts_any(gateways):
    strict, lenient = gateways
    known = {"model": "chorus", "messages": [], "store": False, "service_tier": "auto", "max_token": 5}
    # an empty message list is refused by its own rule, after the parameter check passed "store" and "service_tier"
    reply = httpx.post(lenient.url + "/v1/chat/completions", json=known, timeout=30)
    assert reply.status_code == 400 and reply.json()["error"]["param"] != "max_token"
    del known["max_token"]
    reply = httpx.post(strict.url + "/v1/chat/completions", json=known, timeout=30)
    assert reply.status_code == 400 and reply.json()["error"]["param"] not in ("store", "service_tier")
    # Vapi's metadataSendMode: destructured repeats the metadata's fields at the top level
    vapi = {**known, "metadata": {"tier": 3}, "tier": 3}
    reply = httpx.post(strict.url + "/v1/chat/completions", json=vapi, timeout=30)
    assert reply.status_code == 400 and reply.json()["error"]["param"] != "tier"
