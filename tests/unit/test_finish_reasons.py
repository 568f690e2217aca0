"""`length` is the client's own cap only: the team's safety cap on a looping model ends the answer as
it is, with `stop`, and the trace says why. A real writer server over the fake LLM (real HTTP)."""

import httpx
import pytest

from bench.fake_llm import create_app as fake_llm
from config.settings import Settings
from orchestration.protocol import TaskRequest, TaskResult
from servers.agent import create_app as agent_app
from tests.helpers import ServerThread

LOOPING = 600  # the fake model's answer, longer than the writer's own cap of 512 tokens


@pytest.fixture(scope="module")
def writer():
    with ServerThread(fake_llm(LOOPING, 0.0)) as llm:
        settings = Settings(_env_file=None, llm_base_url=llm.url + "/v1", llm_model="fake-llm", embedded_llm="off")
        with ServerThread(agent_app("writer", settings)) as server:
            yield server


def run(writer, **params) -> TaskResult:
    task = TaskRequest(instruction="Tell me a long story.", params=params)
    reply = httpx.post(
        writer.url + "/v1/tasks",
        content=task.model_dump_json(),
        timeout=120,
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 200, reply.text
    return TaskResult.model_validate_json(reply.content)


def test_the_teams_own_cap_ends_the_answer_with_stop_and_says_so_in_the_trace(writer):
    result = run(writer)
    assert result.finish_reason == "stop"
    llm_step = next(step for step in result.steps if step.name == "llm")
    assert "stopped at the team's own cap of 512 tokens" in llm_step.detail


def test_the_clients_own_cap_is_length(writer):
    result = run(writer, max_tokens=5)
    assert result.finish_reason == "length"
    assert "own cap" not in next(step for step in result.steps if step.name == "llm").detail
