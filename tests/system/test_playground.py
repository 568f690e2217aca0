"""The playground page in real headless Chromium (Debian's package, driven by playwright-core).

The gateway here has API keys, so the page must ask for one; behind it is the test stack's team on
the embedded model. The browser's steps and checks are in tests/js/playground.test.mjs.
"""

import shutil
import uuid

import httpx
import pytest

from servers.gateway import create_app
from tests.helpers import ServerThread, gateway_settings
from tests.node import run_node_tests

# The tests whose point is the model: the whole module on the embedded model, in the worker that runs it.
pytestmark = pytest.mark.xdist_group("embedded")


@pytest.fixture(scope="module")
def stack(embedded_stack):
    return embedded_stack


CHROMIUM = "/usr/bin/chromium"  # `make test` installs Debian's chromium package


def test_the_playground_streams_an_answer_with_its_trace_and_keeps_conversations(stack, tmp_path):
    assert shutil.which(CHROMIUM), "Debian's chromium is expected (make test installs it)"
    key = f"playground-{uuid.uuid4().hex}"
    screenshot = tmp_path / "playground.png"
    with ServerThread(create_app(gateway_settings(stack, api_keys=key))) as gateway:
        page = httpx.get(gateway.url + "/")
        assert page.status_code == 200 and "script-src 'sha256-" in page.headers["content-security-policy"]
        assert httpx.get(gateway.url + "/v1/conversations").status_code == 401  # the data still needs the key
        output = run_node_tests(
            "playground.test.mjs",
            {
                "CHORUS_GATEWAY_URL": gateway.url,
                "CHORUS_API_KEY": key,
                "CHROMIUM": CHROMIUM,
                "CHORUS_SCREENSHOT": str(screenshot),
            },
        )
    assert "# pass 3" in output, output[-2000:]
    assert screenshot.read_bytes().startswith(b"\x89PNG")
