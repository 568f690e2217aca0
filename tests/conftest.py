import os
import tempfile
from pathlib import Path

import pytest

from bench.systems import chorus_on_a_fake_in_the_models_place
from tests.helpers import ROOT, Stack, free_ports

os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT / ".data" / "tiktoken"))

# The model names openai-python's own tests send, answered as Chorus.
STACK_ENV = {"MODEL_ALIASES": "gpt-6-astra=chorus,gpt-3.5-turbo-instruct=chorus", "STREAM_KEEPALIVE_SECONDS": "0.3"}
SYSTEM_TESTS = ("system", "conformance", "cluster")


def pytest_collection_modifyitems(config, items):
    """Every test under tests/system, tests/conformance and tests/cluster starts or uses a whole system
    (the `system` marker: `make test-fast` leaves them out)."""
    for item in items:
        if Path(item.path).relative_to(ROOT / "tests").parts[0] in SYSTEM_TESTS:
            item.add_marker(pytest.mark.system)


@pytest.fixture(scope="session")
def stack():
    """The whole system, started by the real launcher on free ports, with the fake LLM in the embedded
    model's place: the wire contract and the team's mechanics do not depend on a model. One per xdist
    worker; stopped at the end."""
    with chorus_on_a_fake_in_the_models_place(extra_env=STACK_ENV) as system:
        yield system


@pytest.fixture(scope="session")
def embedded_stack():
    """The whole system on the embedded model (SmolLM2-135M), for the tests whose point is the model:
    what it answers, grounded, its sampling, and the page in a real browser. The tests that use it are
    in the xdist group "embedded", so one worker runs them all and one embedded model runs at a time."""
    root = Path(tempfile.mkdtemp(prefix="chorus-test-"))
    system = Stack(root, free_ports(), extra_env=STACK_ENV)
    started = system.run("up", check=False)
    if started.returncode != 0:
        system.run("down", check=False)
        pytest.fail(f"the test stack did not start:\n{started.stdout}\n{started.stderr}")
    yield system
    system.run("down", check=False)
