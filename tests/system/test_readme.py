"""Every snippet a new user copies from the README runs, against the test system."""

import re
import subprocess
import sys

import pytest

from tests.helpers import ROOT

# The tests whose point is the model: the whole module on the embedded model, in the worker that runs it.
pytestmark = pytest.mark.xdist_group("embedded")


@pytest.fixture(scope="module")
def stack(embedded_stack):
    return embedded_stack


README = (ROOT / "README.md").read_text()
DEFAULT_BASE = "http://127.0.0.1:8000"


def snippets(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def run(stack, command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_curl_snippet(stack):
    [curl] = [s for s in snippets("bash") if s.lstrip().startswith("curl")]
    done = run(stack, ["bash", "-c", curl.replace(DEFAULT_BASE, stack.url("gateway"))])
    assert done.returncode == 0, done.stderr
    assert '"agents_used":"analyst,writer"' in done.stdout and "25%" in done.stdout


def test_python_snippets(stack):
    blocks = snippets("python")
    assert len(blocks) == 3  # the openai SDK, LangChain, and the Responses API
    for block in blocks:
        done = run(stack, [sys.executable, "-c", block.replace(DEFAULT_BASE, stack.url("gateway"))])
        assert done.returncode == 0, done.stderr
        assert "writer" in done.stdout  # each prints the agents used
