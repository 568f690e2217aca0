import os
import tempfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, Stack, stack_ports

os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT / ".data" / "tiktoken"))


@pytest.fixture(scope="session")
def stack():
    """The whole system, started by the real launcher on test ports; stopped at the end."""
    root = Path(tempfile.mkdtemp(prefix="chorus-test-"))
    system = Stack(root, stack_ports(18000), extra_env={"MODEL_ALIASES": "gpt-6-astra=chorus,gpt-3.5-turbo-instruct=chorus",
                                                   "STREAM_KEEPALIVE_SECONDS": "0.3"})
    started = system.run("up", check=False)
    if started.returncode != 0:
        system.run("down", check=False)
        pytest.fail(f"the test stack did not start:\n{started.stdout}\n{started.stderr}")
    yield system
    system.run("down", check=False)
