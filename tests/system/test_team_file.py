"""Your team: a team file adding an OpenAI-compatible member (the scripted stand-in, bench/capable_model.py,
on a port of its own) to the built-in agents, on the real processes. A question for it reaches it, its
answer is in the reply, cited, and `agents_used` names it; a member that is down degrades the answer;
a wrong file starts nothing."""

import httpx
import pytest
from openai import OpenAI

from bench.systems import FakeLLM, Stack, chorus_on_a_fake_in_the_models_place, free_ports
from tests.helpers import BUILT_IN_TEAM

pytestmark = pytest.mark.xdist_group("team")

TEAM = (
    BUILT_IN_TEAM
    + """
[[agent]]
name = "weather"
protocol = "openai"
url = "{url}"
model = "fake-llm"
description = "Current weather and forecasts for a city."
keywords = ["weather", "forecast", "rain"]
"""
)


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    member = FakeLLM(module="bench.capable_model")
    member.start()
    path = tmp_path_factory.mktemp("team") / "team.toml"
    path.write_text(TEAM.format(url=member.url))
    try:
        with chorus_on_a_fake_in_the_models_place(extra_env={"TEAM_FILE": str(path)}) as system:
            system.member = member
            yield system
    finally:
        member.stop()


def ask(system, text):
    client = OpenAI(base_url=system.base_url, api_key="unused", max_retries=0, timeout=120)
    completion = client.chat.completions.create(model="chorus", messages=[{"role": "user", "content": text}])
    return completion.choices[0].message.content or "", completion.model_dump()


def test_a_question_for_the_member_reaches_it_and_its_answer_is_in_the_reply(team):
    team.member.script(when="rain in Lisbon", prose="Rain is expected in Lisbon tomorrow, with a high of 17 C.")
    content, body = ask(team, "Will there be rain in Lisbon tomorrow?")
    assert body["metadata"]["agents_used"] == "weather,writer"
    assert "Rain is expected in Lisbon tomorrow, with a high of 17 C." in content  # its own words, quoted
    assert "Sources: [1] weather" in content  # cited as a source; its 17 passed the grounding check
    [asked] = [r for r in team.member.requests() if "rain in Lisbon" in r["said"]]
    assert asked["roles"] == ["user"] and asked["stream"]
    ready = httpx.get(team.url("supervisor") + "/ready").json()
    assert ready["team"] == {"researcher": "chorus", "analyst": "chorus", "writer": "chorus", "weather": "openai"}


def test_a_member_and_a_built_in_agent_work_side_by_side(team):
    team.member.script(when="forecast for Oslo", prose="The forecast for Oslo is snow.")
    content, body = ask(team, "What is 15% of 240, and what is the forecast for Oslo?")
    assert set(body["metadata"]["agents_used"].split(",")) == {"analyst", "weather", "writer"}
    assert "36" in content and "The forecast for Oslo is snow." in content


def test_a_member_that_is_down_degrades_the_answer(team):
    team.member.stop()
    try:
        content, body = ask(team, "Will it rain in Madrid this weekend?")
    finally:
        team.member.start()
    assert body["metadata"]["status"] == "degraded" and body["metadata"]["failed_agents"] == "weather"
    assert "Not available for this answer: the weather." in content
    assert "127.0.0.1" not in content  # why it failed is in the trace, not the answer


def test_a_wrong_team_file_starts_nothing_and_names_its_line(tmp_path):
    path = tmp_path / "team.toml"
    path.write_text(
        TEAM.format(url="http://127.0.0.1:9/v1").replace('protocol = "openai"', 'protocol = "carrier-pigeon"')
    )
    system = Stack(tmp_path / "root", free_ports(), extra_env={"TEAM_FILE": str(path), "EMBEDDED_LLM": "off"})
    started = system.run("up", check=False)
    assert started.returncode != 0
    assert "line 12: unknown protocol 'carrier-pigeon'" in started.stderr
    assert not (tmp_path / "root" / "run" / "supervisord.pid").exists()  # nothing started
    for port in system.ports.values():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_a_member_unreachable_at_start_up_is_a_warning_with_its_circuit_open(tmp_path):
    path = tmp_path / "team.toml"
    closed = free_ports(["closed"])["closed"]  # nothing listens there
    path.write_text(TEAM.format(url=f"http://127.0.0.1:{closed}/v1"))
    with chorus_on_a_fake_in_the_models_place(extra_env={"TEAM_FILE": str(path)}) as system:
        circuits = httpx.get(system.url("supervisor") + "/ready").json()["circuits"]
        assert circuits["weather"].startswith("open") and circuits["researcher"] == "closed"
        assert "the member weather is unreachable at start-up" in system.log("supervisor")
        content, body = ask(system, "Will it rain in Rome tomorrow?")
        assert body["metadata"]["status"] == "degraded" and "weather" in body["metadata"]["failed_agents"]
        assert "Not available for this answer: the weather." in content
