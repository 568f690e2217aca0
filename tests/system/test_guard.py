"""Keys and body limits are decided before the body is read (the guard is ASGI middleware)."""

import hashlib

import httpx

from config.settings import Settings
from servers.gateway import create_app
from tests.helpers import ServerThread


def rss_bytes(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def chunked(total: int, chunk: int = 64 * 1024, sent: list[int] | None = None):
    for _ in range(total // chunk):
        if sent is not None:
            sent.append(chunk)
        yield b"x" * chunk


def test_a_chunked_8_mb_body_is_refused_while_read_without_the_gateway_holding_it(stack):
    pid = stack.pid("gateway")
    before = rss_bytes(pid)
    for _ in range(3):
        reply = httpx.post(
            stack.base_url + "/chat/completions",
            content=chunked(8 * 1024 * 1024),
            headers={"content-type": "application/json"},
            timeout=60,
        )
        assert reply.status_code == 413 and reply.json()["error"]["code"] == "request_too_large"
        assert (
            "transfer-encoding" not in reply.request.headers or reply.request.headers["transfer-encoding"] == "chunked"
        )
    grown = rss_bytes(pid) - before
    assert grown < 4 * 1024 * 1024, f"the gateway grew by {grown} bytes"
    assert httpx.get(stack.url("gateway") + "/health").status_code == 200


def test_keys_from_a_file_hashed_or_plain_and_a_wrong_key_refused_before_the_body(stack, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"# one a line\nsha256:{hashlib.sha256(b'hashed-key').hexdigest()}\nplain-key\n")
    settings = Settings(_env_file=None, api_keys_file=keys, redis_url=f"redis://127.0.0.1:{stack.ports['redis']}/0")
    with ServerThread(create_app(settings)) as gateway:
        sent: list[int] = []
        refused = httpx.post(
            gateway.url + "/v1/chat/completions",
            headers={"authorization": "Bearer wrong"},
            content=chunked(8 * 1024 * 1024, sent=sent),
            timeout=60,
        )
        hashed = httpx.get(gateway.url + "/v1/models", headers={"authorization": "Bearer hashed-key"})
        plain = httpx.get(gateway.url + "/models", headers={"authorization": "Bearer plain-key"})
        unprefixed = httpx.post(gateway.url + "/chat/completions", json={})
        metrics_and_health = [httpx.get(gateway.url + path).status_code for path in ("/health",)]
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    assert hashed.status_code == 200 and plain.status_code == 200
    assert unprefixed.status_code == 401  # the routes without /v1 are guarded the same way
    assert metrics_and_health == [200]


def test_cors_is_off_by_default_and_allows_only_configured_origins(stack):
    preflight = {"origin": "https://app.example", "access-control-request-method": "POST"}
    closed = httpx.options(stack.base_url + "/chat/completions", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    settings = Settings(
        _env_file=None,
        cors_origins="https://app.example",
        api_keys="k",
        redis_url=f"redis://127.0.0.1:{stack.ports['redis']}/0",
    )
    with ServerThread(create_app(settings)) as gateway:
        allowed = httpx.options(gateway.url + "/v1/chat/completions", headers=preflight)
        other = httpx.options(
            gateway.url + "/v1/chat/completions", headers={**preflight, "origin": "https://evil.example"}
        )
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


def test_user_text_stays_out_of_the_logs_at_info(stack):
    marker = "zebra-7431-quartz"
    httpx.post(
        stack.base_url + "/chat/completions",
        timeout=120,
        json={"model": "chorus", "messages": [{"role": "user", "content": f"Say hi to {marker}."}]},
    )
    for server in ("gateway", "supervisor", "researcher", "analyst", "writer"):
        assert marker not in stack.log(server), server
