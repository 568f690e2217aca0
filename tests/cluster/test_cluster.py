"""Chorus on five simulated hosts (network namespaces), every tier twice behind HAProxy, Redis with a
replica and three sentinels: one replica of each tier dies, then the Redis master, under a load of
concurrent conversations. Run by `make test-cluster` (and `make test`), as root.

    lb  10.77.0.10   HAProxy (one frontend a tier, as a Kubernetes Service), the fake LLM, a sentinel,
                     and this test's clients
    h1  10.77.0.11   gateway, supervisor, researcher, analyst, writer (replica 1)
    h2  10.77.0.12   the same (replica 2)
    r1  10.77.0.21   the Redis master and a sentinel
    r2  10.77.0.22   the Redis replica and a sentinel
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import aiohttp
import httpx
import pytest
import redis

from tests.cluster.hosts import Hosts, left_behind
from tests.helpers import ROOT, ServerProcess, start_of_a_window
from tests.sentinel_group import Member, SentinelGroup

TIERS = {"gateway": 8000, "supervisor": 8001, "researcher": 8002, "analyst": 8003, "writer": 8004}
REPLICAS = ["h1", "h2"]
LLM_PORT = 9080
CONVERSATIONS = 6
LIMIT = 30  # requests a minute, per key: the load's keys stay under it (MAX_TURNS), the limit test meets it
MAX_TURNS = 24
TURNS_PER_PHASE = 3  # completed turns of every conversation before each fault, and after the last
RETRY_PAUSE = 1.0
HANG = 120  # a request still open after this long is a hang (a liveness guard, not a speed bound)


def haproxy_config(hosts: Hosts) -> str:
    """One frontend a tier on the lb host; unhealthy servers leave the rotation, and a request whose
    connection is refused is sent to the other replica."""
    lines = [
        "global",
        "  maxconn 4096",
        "defaults",
        "  mode http",
        "  timeout connect 1s",
        "  timeout client 180s",
        "  timeout server 180s",
        "  retries 3",
        "  option redispatch 1",
        "  retry-on conn-failure empty-response",
    ]  # a request nothing answered goes to the other replica
    for tier, port in TIERS.items():
        lines += [
            f"frontend {tier}",
            f"  bind {hosts.address('lb')}:{port}",
            f"  default_backend {tier}",
            f"backend {tier}",
            "  balance roundrobin",
            "  option httpchk GET /health",
            "  default-server inter 300ms fall 2 rise 2",
        ]
        lines += [f"  server {host} {hosts.address(host)}:{port} check" for host in REPLICAS]
    return "\n".join(lines) + "\n"


@dataclass
class Turn:
    question: str
    started: float
    ended: float = 0.0
    answer: str = ""
    error: str = ""  # empty: completed

    @property
    def completed(self) -> bool:
        return self.ended > 0 and not self.error


@dataclass
class Conversation:
    key: str
    id: str = ""
    turns: list[Turn] = field(default_factory=list)

    def completed_since(self, moment: float) -> int:
        return sum(1 for t in self.turns if t.completed and t.started > moment)


async def one_turn(http: aiohttp.ClientSession, url: str, conversation: Conversation, question: str) -> Turn:
    turn = Turn(question, time.monotonic())
    conversation.turns.append(turn)
    body = {"model": "chorus", "stream": True, "messages": [{"role": "user", "content": question}]}
    if conversation.id:
        body["conversation_id"] = conversation.id
    parts: list[str] = []
    try:
        async with http.post(
            url,
            json=body,
            headers={"authorization": f"Bearer {conversation.key}"},
            timeout=aiohttp.ClientTimeout(total=HANG),
        ) as response:
            if response.status != 200:
                turn.error = f"HTTP {response.status}: {(await response.json())['error']['code']}"
            else:
                finished = False
                async for raw in response.content:
                    line = raw.decode().strip()
                    if line == "data: [DONE]":
                        finished = True
                    elif line.startswith("data: "):
                        chunk = json.loads(line[6:])
                        if "error" in chunk:
                            turn.error = f"error chunk: {chunk['error'].get('code')}"
                            continue
                        conversation.id = conversation.id or chunk.get("conversation_id", "")
                        for choice in chunk.get("choices") or []:
                            parts.append((choice.get("delta") or {}).get("content") or "")
                if not finished and not turn.error:
                    turn.error = "stream cut before [DONE]"
    except TimeoutError:
        turn.error = "HANG"
    except aiohttp.ClientError as error:  # the connection died with the replica: an error, at once
        turn.error = f"connection: {type(error).__name__}"
    turn.answer = "".join(parts)
    turn.ended = time.monotonic()
    return turn


@pytest.fixture
def cluster(tmp_path):
    assert os.geteuid() == 0, "the cluster test makes network namespaces: run it as root"
    assert shutil.which("haproxy"), "HAProxy is expected (make test-cluster installs Debian's haproxy)"
    hosts = Hosts({"lb": 10, "h1": 11, "h2": 12, "r1": 21, "r2": 22}).create()
    started: list[subprocess.Popen] = []
    group = SentinelGroup(
        tmp_path,
        Member("master", hosts.address("r1"), 6379, hosts.prefix("r1")),
        Member("replica", hosts.address("r2"), 6379, hosts.prefix("r2")),
        [Member("sentinel", hosts.address(h), 26379, hosts.prefix(h)) for h in ("r1", "r2", "lb")],
    )
    servers: dict[tuple[str, str], ServerProcess] = {}
    try:
        with hosts.entered("lb"):
            group.start()
            lb = hosts.address("lb")
            started.append(
                subprocess.Popen(
                    [
                        *hosts.prefix("lb"),
                        sys.executable,
                        "-m",
                        "bench.fake_llm",
                        "--host",
                        lb,
                        "--port",
                        str(LLM_PORT),
                        "--tokens",
                        "12",
                        "--delay",
                        "0.03",
                    ],
                    cwd=ROOT,
                    stdout=(tmp_path / "llm.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
            (tmp_path / "haproxy.cfg").write_text(haproxy_config(hosts))
            started.append(
                subprocess.Popen(
                    [*hosts.prefix("lb"), "haproxy", "-db", "-f", str(tmp_path / "haproxy.cfg")],
                    stdout=(tmp_path / "haproxy.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
            keys = [f"cluster-{i}-{secrets.token_hex(4)}" for i in range(CONVERSATIONS + 1)]
            env = {
                "BIND_HOST": "0.0.0.0",
                "LOG_FORMAT": "text",
                "SHUTDOWN_GRACE_SECONDS": "1",
                **{f"{tier.upper()}_URL": f"http://{lb}:{port}" for tier, port in TIERS.items() if tier != "gateway"},
                "LLM_BASE_URL": f"http://{lb}:{LLM_PORT}/v1",
                "LLM_MODEL": "fake-llm",
                "EMBEDDED_LLM": "off",
                "EMBEDDED_REDIS": "off",
                "REDIS_URL": "redis://unused:6379/0",
                "REDIS_SENTINELS": group.sentinel_list,
                "REDIS_SENTINEL_MASTER": "chorus",
                "REDIS_WAIT_REPLICAS": "1",
                "API_KEYS": ",".join(keys),
                "RATE_LIMIT_REQUESTS_PER_MINUTE": str(LIMIT),
                "INTERNAL_TOKEN": secrets.token_urlsafe(24),
                "TIKTOKEN_CACHE_DIR": str(ROOT / ".data" / "tiktoken"),
            }
            for host in REPLICAS:
                for tier, port in TIERS.items():
                    folder = tmp_path / host / tier
                    folder.mkdir(parents=True)
                    servers[host, tier] = ServerProcess(
                        tier,
                        env | {"DATA_DIR": str(folder), "RUN_DIR": str(folder)},
                        f"http://{hosts.address(host)}:{port}",
                        tmp_path / f"{host}-{tier}.log",
                        hosts.prefix(host),
                    )
            group.wait_ready()
            for server in servers.values():
                server.wait_ready()
            yield hosts, group, servers, keys
    finally:
        for server in servers.values():
            server.kill()
        for process in started:
            process.send_signal(signal.SIGTERM)
            process.wait(10)
        group.stop()
        hosts.remove()
        assert left_behind(hosts.tag) == []


def test_the_cluster_survives_a_replica_of_each_tier_and_the_redis_master(cluster, capsys):
    hosts, group, servers, keys = cluster
    lb = hosts.address("lb")
    through_lb = f"http://{lb}:{TIERS['gateway']}/v1/chat/completions"
    with hosts.entered("lb"):
        # Two gateways, one service: a conversation begun on h1 continues on h2; a key's limit is one.
        gateways = [f"http://{hosts.address(h)}:{TIERS['gateway']}/v1" for h in REPLICAS]
        limited = {"authorization": f"Bearer {keys[-1]}"}
        asked = {"model": "chorus-writer", "max_tokens": 8}
        first = httpx.post(
            f"{gateways[0]}/chat/completions",
            headers=limited,
            timeout=HANG,
            json={**asked, "messages": [{"role": "user", "content": "Say hi."}]},
        ).json()
        httpx.post(
            f"{gateways[1]}/chat/completions",
            headers=limited,
            timeout=HANG,
            json={
                **asked,
                "conversation_id": first["conversation_id"],
                "messages": [{"role": "user", "content": "And bye."}],
            },
        )
        stored = httpx.get(f"{gateways[0]}/conversations/{first['conversation_id']}", headers=limited).json()
        assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == ["Say hi.", "And bye."]
        for _ in range(3):  # in one minute's window: a window that turned meanwhile is tried again
            start_of_a_window()
            seen = []  # (status, requests left) of requests alternating between the gateways
            while not seen or seen[-1][0] == 200:
                answer = httpx.post(
                    f"{gateways[len(seen) % 2]}/chat/completions",
                    headers=limited,
                    timeout=HANG,
                    json={**asked, "messages": [{"role": "user", "content": "Hi."}]},
                )
                seen.append((answer.status_code, int(answer.headers.get("x-ratelimit-remaining-requests", -1))))
            left = [remaining for status, remaining in seen if status == 200]
            if all(a > b for a, b in itertools.pairwise(left)):
                break
        assert left == list(range(left[0], -1, -1)) and seen[-1][0] == 429  # each counted once, on either
        refused = httpx.post(
            f"{gateways[len(seen) % 2]}/chat/completions",
            headers=limited,
            timeout=HANG,
            json={**asked, "messages": [{"role": "user", "content": "Hi."}]},
        )
        assert refused.status_code == 429  # and the other gateway refuses too

        conversations = [Conversation(key) for key in keys[:CONVERSATIONS]]
        faults: dict[str, float] = {}
        in_flight: dict[str, int] = {}

        async def talk(http, conversation: Conversation, index: int, stop: asyncio.Event) -> None:
            for number in range(MAX_TURNS):
                if stop.is_set():
                    return
                turn = await one_turn(
                    http,
                    through_lb,
                    conversation,
                    f"Conversation {index}, turn {number}: what do the docs say about Redis, "
                    f"and what is the growth from {100 + number} to 150?",
                )
                if turn.error:  # as a chat client does: a moment, then the next question
                    await asyncio.sleep(RETRY_PAUSE)

        async def after(moment: float, turns: int) -> None:
            while not all(c.completed_since(moment) >= turns for c in conversations):
                assert all(len(c.turns) < MAX_TURNS for c in conversations), (
                    f"a conversation ran out of turns: {[t.error for c in conversations for t in c.turns if t.error]}"
                )
                await asyncio.sleep(0.05)

        def fault(name: str, act) -> None:
            moment = time.monotonic()
            in_flight[name] = sum(1 for c in conversations for t in c.turns if not t.ended)
            act()
            faults[name] = moment

        async def run() -> None:
            stop = asyncio.Event()
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
                load = [asyncio.create_task(talk(http, c, i, stop)) for i, c in enumerate(conversations)]
                try:
                    await after(0.0, TURNS_PER_PHASE)
                    fault("replicas", lambda: [servers["h1", tier].kill() for tier in TIERS])
                    await after(faults["replicas"], TURNS_PER_PHASE)
                    fault("redis master", group.kill_master)
                    await after(faults["redis master"], TURNS_PER_PHASE)
                finally:
                    stop.set()
                    await asyncio.gather(*load)

        asyncio.run(run())
        turns = [t for c in conversations for t in c.turns]
        assert not [t for t in turns if t.error == "HANG"], "a request hung"
        assert all(t.ended for t in turns)
        assert in_flight["replicas"] > 0 and in_flight["redis master"] > 0  # the faults met requests in flight
        assert group.master_address(lambda m: redis.Redis(host=m.host, port=m.port)) == (hosts.address("r2"), 6379)
        # every completed turn is stored once, in order, with the answer the client was streamed
        for conversation in conversations:
            stored = httpx.get(
                f"http://{lb}:{TIERS['gateway']}/v1/conversations/{conversation.id}",
                headers={"authorization": f"Bearer {conversation.key}"},
                timeout=30,
            ).json()["messages"]
            questions = [m["content"] for m in stored if m["role"] == "user"]
            assert len(questions) == len(set(questions)), "a turn was stored twice"
            answers = {m["content"] for m in stored if m["role"] == "assistant"}
            completed = [t for t in conversation.turns if t.completed]
            assert [q for q in questions if q in {t.question for t in completed}] == [t.question for t in completed]
            assert all(t.answer in answers for t in completed)
            assert set(questions) <= {t.question for t in conversation.turns}
        # after each fault, requests begun after it succeed (how soon: printed below)
        report = []
        for name, moment in faults.items():
            later = [t for t in turns if t.started > moment]
            first_ok = min((t.ended for t in later if t.completed), default=None)
            assert first_ok is not None
            errors = sorted({t.error for t in turns if t.error and t.started < moment + 10})
            report.append(
                f"{name}: {in_flight[name]} in flight, first success {first_ok - moment:.2f} s after; errors {errors}"
            )
    with capsys.disabled():
        print(f"\ncluster: {len(turns)} turns, {sum(t.completed for t in turns)} completed; " + "; ".join(report))
