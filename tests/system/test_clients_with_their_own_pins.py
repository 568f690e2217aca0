"""Clients with pins of their own, each in its own virtualenv: the OpenAI Agents SDK (openai-agents from
PyPI) completes runs on the embedded model, a plain one and one that calls a tool, with no spurious
`incomplete` (which the SDK treats as fatal); LiteLLM's SDK gets answers whole and streamed. Both
against the strict default for unknown parameters."""

import json
import os
import subprocess
import tempfile

from bench.systems import LITELLM_VERSION, venv_of_its_own
from tests.helpers import ROOT

AGENTS_SDK = "openai-agents==0.25.0"


def test_the_agents_sdk_completes_a_plain_run_and_a_tool_run(stack):
    python = venv_of_its_own(ROOT / ".data" / "sdk" / "openai-agents", [AGENTS_SDK])
    run = subprocess.run(
        [str(python), str(ROOT / "tests" / "sdk" / "agents_sdk_run.py"), stack.base_url],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert "36" in outcome["plain"]  # the analyst's figure, through the Responses API
    assert "tool_call_item" in outcome["tool_items"] and "tool_call_output_item" in outcome["tool_items"]
    assert outcome["tools"].strip()


def test_litellms_sdk_gets_answers_whole_and_streamed(stack):
    python = venv_of_its_own(ROOT / ".data" / "sdk" / "litellm", [f"litellm=={LITELLM_VERSION}"])  # bench's version
    run = subprocess.run(
        [str(python), str(ROOT / "tests" / "sdk" / "litellm_run.py"), stack.base_url],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )  # its shipped copy: no download
    assert run.returncode == 0, (LITELLM_VERSION, run.stderr[-3000:])
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert "36" in outcome["whole"] and outcome["finish"] == "stop"
    assert "36" in outcome["streamed"]
