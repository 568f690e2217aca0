import re
import subprocess
import sys

import pytest
from pydantic import BaseModel, ValidationError

from config.settings import Settings, describe_errors
from tests.helpers import ROOT


def test_defaults_point_at_the_embedded_runtime(monkeypatch):
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    s = Settings(_env_file=None)
    assert (s.gateway_port, s.supervisor_port, s.researcher_port, s.analyst_port, s.writer_port, s.local_llm_port) == (
        8000,
        8001,
        8002,
        8003,
        8004,
        8080,
    )
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.runs_embedded_redis and s.runs_embedded_llm
    assert s.llm_for("writer").base_url == "http://127.0.0.1:8080/v1"


def test_the_profile_is_basic_for_the_embedded_model_and_capable_elsewhere_unless_set(monkeypatch):
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    embedded = Settings(_env_file=None)
    assert [embedded.profile(r) for r in ("supervisor", "researcher", "writer")] == ["basic"] * 3
    remote = Settings(_env_file=None, writer_llm={"base_url": "http://big-model:9000/v1"})
    assert (remote.profile("writer"), remote.profile("researcher")) == ("capable", "basic")
    monkeypatch.setenv("LLM_BASE_URL", "http://models.internal:9000/v1")
    monkeypatch.setenv("WRITER_LLM_CAPABILITY", "basic")  # a small model behind another endpoint
    mixed = Settings(_env_file=None)
    assert (mixed.profile("writer"), mixed.profile("supervisor")) == ("basic", "capable")
    monkeypatch.setenv("LLM_CAPABILITY", "basic")
    assert Settings(_env_file=None).profile("supervisor") == "basic"


def test_per_agent_override_wins_over_the_shared_default(monkeypatch):
    monkeypatch.setenv("LLM_BASE_URL", "http://models.internal:9000/v1")
    monkeypatch.setenv("LLM_MODEL", "shared-model")
    monkeypatch.setenv("RESEARCHER_LLM_MODEL", "research-model")
    monkeypatch.setenv("WRITER_LLM_TEMPERATURE", "0.9")
    s = Settings(_env_file=None)
    assert s.llm_for("researcher").model == "research-model"
    assert s.llm_for("supervisor").model == "shared-model"
    assert s.llm_for("writer").temperature == 0.9
    assert s.llm_for("writer").base_url == "http://models.internal:9000/v1"
    assert not s.runs_embedded_llm  # nobody uses the local model, so it is not started


def test_remote_redis_starts_no_embedded_server(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6380/1")
    assert not Settings(_env_file=None).runs_embedded_redis


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GATEWAY_PORT", "eighty"),
        ("GATEWAY_PORT", "70000"),
        ("REDIS_URL", "http://x"),
        ("LLM_TEMPERATURE", "5"),
        ("PLANNER", "magic"),
        ("LLM_BASE_URL", "ftp://x"),
        ("WRITER_LLM_BASE_URL", "ftp://x"),
        ("RESEARCHER_LLM_TEMPERATURE", "9"),
        ("LLM_CAPABILITY", "smart"),
        ("WRITER_LLM_CAPABILITY", "smart"),
    ],
)
def test_invalid_value_names_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert variable in describe_errors(caught.value)


def test_a_server_with_a_bad_setting_fails_at_start_naming_it():
    env = {"PATH": "/usr/bin:/bin", "WRITER_PORT": "not-a-port"}
    done = subprocess.run(
        [sys.executable, "-m", "servers", "writer"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "WRITER_PORT='not-a-port'" in done.stderr
    assert "Traceback" not in done.stderr


def test_env_example_lists_every_setting():
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z_]+)=", text, re.MULTILINE))
    fields = set()
    for name, field in Settings.model_fields.items():  # a nested one (WRITER_LLM) is listed field by field
        nested = (
            field.annotation if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel) else None
        )
        fields |= {f"{name}_{part}".upper() for part in nested.model_fields} if nested else {name.upper()}
    assert fields == listed


def test_servers_are_reached_at_their_configured_url_or_the_bind_address():
    assert Settings(_env_file=None, bind_host="0.0.0.0").agent_url("writer") == "http://127.0.0.1:8004"
    assert Settings(_env_file=None, bind_host="10.1.2.3").agent_url("analyst") == "http://10.1.2.3:8003"
    assert Settings(_env_file=None, bind_host="fd00::5").agent_url("analyst") == "http://[fd00::5]:8003"
    chosen = Settings(_env_file=None, supervisor_url="http://supervisor.chorus.svc:8001/")
    assert chosen.agent_url("supervisor") == "http://supervisor.chorus.svc:8001"


def test_api_keys_are_kept_only_as_digests_and_compared_whole(tmp_path):
    import hashlib

    from servers.gateway.guard import key_digests, key_matches

    keys = tmp_path / "keys"
    keys.write_text(f"sha256:{hashlib.sha256(b'from-file').hexdigest().upper()}\n# comment\n")
    digests = key_digests("a, b", keys)
    assert "a" not in digests and len(digests) == 3
    assert key_matches("a", digests) and key_matches("from-file", digests)
    assert not key_matches("ab", digests) and not key_matches("", digests)


def test_sentinels_are_host_port_pairs_and_replace_the_embedded_redis():
    settings = Settings(_env_file=None, redis_sentinels="10.0.0.1:26379, [::1]:26380")
    assert settings.sentinel_addresses == [("10.0.0.1", 26379), ("::1", 26380)]
    assert not settings.runs_embedded_redis and Settings(_env_file=None).runs_embedded_redis
    for wrong in ("sentinel", "host:0", "host:port"):
        with pytest.raises(ValidationError, match="is not host:port"):
            Settings(_env_file=None, redis_sentinels=wrong)


def test_the_analyst_calls_its_model_only_on_the_capable_profile(monkeypatch):
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    embedded = Settings(_env_file=None)
    assert embedded.profile("analyst") == "basic" and not embedded.calls_llm("analyst")
    remote = Settings(_env_file=None, llm_base_url="http://big-model:9000/v1")
    assert remote.profile("analyst") == "capable" and remote.calls_llm("analyst")
    # every other agent on a remote model, the analyst on rules: nothing needs the embedded model
    rules = Settings(_env_file=None, llm_base_url="http://big-model:9000/v1", analyst_llm={"capability": "basic"})
    assert not rules.calls_llm("analyst") and not rules.runs_embedded_llm
    monkeypatch.setenv("ANALYST_LLM_BASE_URL", "http://127.0.0.1:8080/v1")  # the embedded model, on rules
    assert not Settings(_env_file=None, llm_base_url="http://big-model:9000/v1").runs_embedded_llm
