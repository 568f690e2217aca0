"""Faults injected into the real processes: stopped, stalled and killed servers, a killed Redis,
clients that hang up, and SIGTERM in the middle of a stream."""

import json
import os
import signal
import socket
import threading
import time
import uuid
import xmlrpc.client

import httpx
import openai
import pytest
from openai import OpenAI

from bench.systems import chorus_on_a_fake_in_the_models_place

LONG_STORY = {
    "role": "user",
    "content": "Write a very long story about a dragon who learns to cook, with many chapters.",
}
# These tests stop, stall and kill the system's processes: they share one system of their own, in one worker.
pytestmark = pytest.mark.xdist_group("faults")


ANSWER_WORDS = 80


@pytest.fixture(scope="module")
def stack():
    """The fake LLM in the embedded model's place, answering 80 words 30 ms apart (a stream lasts 2.4 s);
    an open circuit is tried again after 5 s."""
    with chorus_on_a_fake_in_the_models_place(
        tokens=ANSWER_WORDS, delay=0.03, extra_env={"CIRCUIT_BREAKER_COOLDOWN_SECONDS": "5"}
    ) as system:
        yield system


def fake_llm_pid(stack) -> int:
    return stack.llm.process.pid


def client(stack, timeout: float) -> OpenAI:
    return OpenAI(base_url=stack.base_url, api_key="test", max_retries=0, timeout=timeout)


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_used(pid: int, over: float) -> float:
    before = cpu_seconds(pid)
    time.sleep(over)
    return cpu_seconds(pid) - before


def wait_idle(pid: int) -> None:
    """Earlier tests' generations are over: the LLM used no CPU for half a second."""
    for _ in range(240):
        if cpu_used(pid, 0.5) < 0.02:
            return
    raise AssertionError("the LLM never went idle")


def answer_ok(stack) -> None:
    """A plain request goes through: the writer works again (its circuit sees a success)."""
    reply = client(stack, 120).chat.completions.create(model="chorus", messages=[{"role": "user", "content": "hello"}])
    assert reply.metadata["status"] == "completed", reply.metadata


# --- stopped and stalled servers ---------------------------------------------------------------
def test_a_stalled_researcher_degrades_the_answer_within_the_clients_timeout(stack):
    pid = stack.pid("researcher")
    os.kill(pid, signal.SIGSTOP)  # it accepts connections (the kernel does) and never answers
    try:
        reply = client(stack, 24).chat.completions.create(
            model="chorus", messages=[{"role": "user", "content": "What do the docs say about Redis persistence?"}]
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    # the client's timeout (sent by the SDK) became the deadline: the researcher got half of it
    assert reply.metadata["status"] == "degraded" and reply.metadata["failed_agents"] == "researcher"
    trace = {run["agent"]: run for run in reply.model_extra["agent_trace"]}
    assert "deadline" in trace["researcher"]["error"] and trace["writer"]["status"] == "ok"
    assert reply.choices[0].message.content.strip()


def refused(call) -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as raised:
        call()
    error = raised.value
    assert "http" not in error.message.lower() and "llm" not in error.message.lower()  # details: in the logs
    return error


def test_a_stalled_llm_gives_a_clean_504_and_leaves_the_writers_circuit_closed(stack):
    llm = fake_llm_pid(stack)
    os.kill(llm, signal.SIGSTOP)
    try:
        # small talk: nothing for the team to find, so with no writer there is no answer to give
        error = refused(
            lambda: client(stack, 8).chat.completions.create(
                model="chorus", messages=[{"role": "user", "content": "hello"}]
            )
        )
    finally:
        os.kill(llm, signal.SIGCONT)
    assert error.status_code == 504 and error.body["code"] == "deadline_exceeded"
    answer_ok(stack)  # a busy or stalled LLM is no broken writer: its circuit did not open


def test_a_slowed_llm_still_answers_in_full_and_leaves_the_writers_circuit_closed(stack):
    llm = fake_llm_pid(stack)
    slowing = threading.Event()

    def slow_down() -> None:  # the LLM runs half the time: slow, not stalled
        while not slowing.is_set():
            os.kill(llm, signal.SIGSTOP)
            time.sleep(0.3)
            os.kill(llm, signal.SIGCONT)
            time.sleep(0.3)

    wait_idle(llm)
    slower = threading.Thread(target=slow_down)
    slower.start()
    try:
        reply = client(stack, 120).chat.completions.create(
            model="chorus", max_tokens=40, messages=[{"role": "user", "content": "Say hello to me."}]
        )
    finally:
        slowing.set()
        slower.join()
        os.kill(llm, signal.SIGCONT)
    text = reply.choices[0].message.content
    assert reply.metadata["status"] == "completed" and text.strip(), reply.metadata
    assert "127.0.0.1" not in text and "unreachable" not in text
    answer_ok(stack)


def test_an_llm_that_is_down_gives_a_503_with_retry_after_and_no_internal_text(stack):
    stack.llm.stop()
    try:
        error = refused(
            lambda: client(stack, 60).chat.completions.create(
                model="chorus", messages=[{"role": "user", "content": "hello"}]
            )
        )
        streamed = httpx.post(
            stack.base_url + "/chat/completions",
            timeout=60,
            json={"model": "chorus", "stream": True, "messages": [{"role": "user", "content": "hello"}]},
        )
        # a question the team can answer without a model still gets its figure
        computed = client(stack, 60).chat.completions.create(
            model="chorus", messages=[{"role": "user", "content": "What is 17 * 23?"}]
        )
    finally:
        stack.llm.start()  # on the same port
    assert error.status_code == 503 and error.body["code"] == "team_unavailable"
    assert int(error.response.headers["retry-after"]) >= 1
    assert f"127.0.0.1:{stack.ports['llm']}/v1 is unreachable (the connection was refused)" in stack.log("supervisor")
    events = [line[5:].strip() for line in streamed.text.splitlines() if line.startswith("data:")]
    assert events[-1] == "[DONE]" and json.loads(events[-2])["error"]["code"] == "team_unavailable"
    assert not any(
        "choices" in json.loads(e) and json.loads(e)["choices"] and json.loads(e)["choices"][0]["delta"].get("content")
        for e in events[:-1]
    )  # no text at all
    assert "391" in computed.choices[0].message.content
    answer_ok(stack)


def test_a_killed_writer_degrades_to_an_answer_from_the_findings_and_opens_only_its_circuit(stack):
    rpc = stack.rpc()
    pid = stack.pid("writer")
    rpc.stopProcess("writer", False)
    os.kill(pid, signal.SIGKILL)
    try:
        replies = [
            client(stack, 60).chat.completions.create(
                model="chorus", messages=[{"role": "user", "content": f"What is 17 * {n}?"}]
            )
            for n in (23, 24, 25, 26)
        ]
    finally:
        rpc.startProcess("writer")
        stack.wait_ready("writer")
    for reply, product in zip(replies, ("391", "408", "425", "442")):
        text = reply.choices[0].message.content
        assert product in text and "http" not in text and "writer" not in text.lower(), text
        assert reply.metadata["status"] == "degraded" and reply.metadata["failed_agents"] == "writer"
    errors = [next(r for r in reply.model_extra["agent_trace"] if r["agent"] == "writer")["error"] for reply in replies]
    assert errors[-1].startswith("skipped: its circuit is open"), errors  # refused connections count
    assert all(
        r["status"] == "ok" for reply in replies for r in reply.model_extra["agent_trace"] if r["agent"] == "analyst"
    )
    for _ in range(120):  # a liveness guard: the circuit's cool-down, then one test call closes it
        try:
            client(stack, 120).chat.completions.create(model="chorus", messages=[{"role": "user", "content": "hi"}])
            break
        except openai.APIStatusError as error:  # skipped while open: nothing to answer small talk with
            assert error.status_code == 503 and error.response.headers["retry-after"], error
            time.sleep(1)
    answer_ok(stack)


def test_a_supervisor_that_is_down_gives_a_503(stack):
    rpc = stack.rpc()
    rpc.stopProcess("supervisor")
    try:
        refused = httpx.post(
            stack.base_url + "/chat/completions",
            timeout=60,
            json={"model": "chorus", "messages": [{"role": "user", "content": "hello"}]},
        )
    finally:
        rpc.startProcess("supervisor")
        stack.wait_ready("supervisor")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "team_unavailable"
    assert refused.headers["x-should-retry"] == "false"


# --- Redis killed in the middle of a load -------------------------------------------------------
def keep_down(rpc, name: str) -> None:
    """Until supervisord holds the killed process STOPPED: it may not have seen the death yet, or
    may be restarting it (autorestart), and in those states a stop is refused or comes too early."""
    for _ in range(600):  # a liveness guard, not a speed bound
        if rpc.getProcessInfo(name)["statename"] == "STOPPED":
            return
        try:
            rpc.stopProcess(name)
        except xmlrpc.client.Fault:
            time.sleep(0.05)  # EXITED, between the death and the restart: ask again
    raise AssertionError(f"supervisord did not stop {name}")


def test_redis_killed_mid_load_loses_no_completed_turn_and_half_writes_nothing(stack):
    outcomes: list[tuple[str, int, dict]] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=60) as http:
            while not stop.is_set():
                conversation = f"load-{uuid.uuid4().hex[:12]}"
                reply = http.post(
                    stack.base_url + "/chat/completions",
                    json={
                        "model": "chorus-analyst",
                        "conversation_id": conversation,
                        "messages": [{"role": "user", "content": "What is 17 * 23?"}],
                    },
                )
                outcomes.append((conversation, reply.status_code, reply.json()))
                if reply.status_code != 200:
                    time.sleep(0.1)  # refused while Redis is down: back off, as a client would

    def completed() -> int:
        return sum(1 for _, status, _ in outcomes if status == 200)

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    rpc = stack.rpc()
    try:
        while completed() < 20:
            time.sleep(0.05)
        os.kill(stack.pid("redis"), signal.SIGKILL)  # no shutdown: what was acknowledged must be on disk
        keep_down(rpc, "redis")
        outage = [
            httpx.post(
                stack.base_url + "/chat/completions",
                timeout=60,
                json={"model": "chorus-analyst", "messages": [{"role": "user", "content": "What is 2 + 2?"}]},
            )
            for _ in range(3)
        ]
        rpc.startProcess("redis")  # it is STOPPED: supervisord does not restart that by itself
        stack.wait_ready("gateway")
        mark = completed()
        while completed() < mark + 20:
            time.sleep(0.05)
    finally:
        stop.set()
        for worker in workers:
            worker.join(120)
        if rpc.getProcessInfo("redis")["statename"] != "RUNNING":
            rpc.startProcess("redis")
    assert all(r.status_code == 503 and r.json()["error"]["code"] == "conversation_store_unavailable" for r in outage)
    statuses = {status for _, status, _ in outcomes}
    assert statuses <= {200, 503}, statuses
    with httpx.Client(timeout=30) as http:
        for conversation, status, _ in outcomes:
            stored = http.get(f"{stack.base_url}/conversations/{conversation}")
            if status == 200:  # acknowledged: it is there, once
                assert stored.status_code == 200, conversation
                assert [m["role"] for m in stored.json()["messages"]] == ["user", "assistant"], conversation
            else:  # refused: absent, or whole
                assert stored.status_code == 404 or len(stored.json()["messages"]) == 2, conversation


# --- clients that hang up -----------------------------------------------------------------------
def generations(stack, marker: str) -> list[dict]:
    return [r for r in httpx.get(f"{stack.llm.url.removesuffix('/v1')}/fake/requests").json() if marker in r["said"]]


def generation_of(stack, marker: str, outcome: str) -> dict:
    for _ in range(600):  # a liveness guard (up to a minute on a loaded machine), not a speed bound
        found = generations(stack, marker)
        if found and found[-1]["outcome"] == outcome:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no generation for {marker} reached {outcome!r}: {generations(stack, marker)}")


def ask_then_hang_up(stack, marker: str, streaming: bool) -> None:
    """A client on a bare socket: it sends its request, waits until the LLM is generating, hangs up."""
    body = json.dumps(
        {
            "model": "chorus",
            "stream": streaming,
            "messages": [{"role": "user", "content": f"{LONG_STORY['content']} ({marker})"}],
        }
    ).encode()
    with socket.create_connection(("127.0.0.1", stack.ports["gateway"])) as client_socket:
        client_socket.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: chorus\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n" % len(body) + body
        )
        for _ in range(600):  # a liveness guard: until the LLM has the request
            if generations(stack, marker):
                break
            time.sleep(0.05)
    # the socket is closed: the client has hung up in the middle of the generation


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
def test_a_client_that_hangs_up_stops_the_llms_generation(stack, streaming):
    """The hang-up travels gateway -> supervisor -> writer -> LLM: the LLM's generation is cut."""
    marker = f"hangup-{uuid.uuid4().hex[:8]}"
    ask_then_hang_up(stack, marker, streaming)
    cut = generation_of(stack, marker, "cut")
    assert cut["stream"] is streaming  # a whole answer is asked for whole, and cut all the same


def test_the_llm_generates_to_the_end_when_nobody_hangs_up(stack):
    """The check above can fail: left alone, the same request is generated to its end."""
    marker = f"stays-{uuid.uuid4().hex[:8]}"
    reply = client(stack, 120).chat.completions.create(
        model="chorus", messages=[{"role": "user", "content": f"{LONG_STORY['content']} ({marker})"}]
    )
    assert reply.choices[0].message.content.strip()
    assert generation_of(stack, marker, "finished")["stream"] is False


def test_client_hanging_up_mid_stream_stores_nothing(stack):
    """The answer is cut where the client left it: the turn is not stored (its generation was cut)."""
    conversation = f"hangup-{uuid.uuid4().hex[:12]}"
    with httpx.stream(
        "POST",
        stack.base_url + "/chat/completions",
        timeout=60,
        json={
            "model": "chorus-writer",
            "stream": True,
            "conversation_id": conversation,
            "messages": [{"role": "user", "content": "Write a long story about a lighthouse."}],
        },
    ) as response:
        for line in response.iter_lines():
            if '"content":"' in line and '"content":""' not in line:
                break  # hang up after the first token
    generation_of(stack, "lighthouse", "cut")
    assert httpx.get(f"{stack.base_url}/conversations/{conversation}").status_code == 404


# --- SIGTERM in the middle of a stream ----------------------------------------------------------
@pytest.mark.parametrize("server", ["gateway", "supervisor"])
def test_sigterm_during_a_stream_lets_the_stream_finish(stack, server):
    pid = stack.pid(server)
    body = {"model": "chorus", "messages": [LONG_STORY], "max_tokens": 200, "temperature": 1.3, "stream": True}
    chunks, done, terminated = [], False, False
    with httpx.stream("POST", stack.base_url + "/chat/completions", json=body, timeout=120) as response:
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                continue
            chunks.append(json.loads(line[6:]))
            if not terminated and chunks[-1].get("choices") and chunks[-1]["choices"][0]["delta"].get("content"):
                os.kill(pid, signal.SIGTERM)  # mid-answer
                terminated = True
    assert terminated and done
    assert not any("error" in chunk for chunk in chunks), [c for c in chunks if "error" in c]
    finishes = [
        c["choices"][0]["finish_reason"] for c in chunks if c.get("choices") and c["choices"][0]["finish_reason"]
    ]
    assert finishes in (["length"], ["stop"])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    assert len(text.split()) == ANSWER_WORDS  # every word of the fake's answer
    for _ in range(600):  # the old process exits once its stream is done (supervisord starts a new one)
        if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"{server} did not exit after SIGTERM")
    stack.wait_ready(server)
    stack.wait_ready("gateway")
