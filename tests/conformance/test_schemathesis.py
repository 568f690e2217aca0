"""schemathesis against OpenAI's published spec: no 5xx, every response valid against the spec.

deleteResponse is left out: the spec gives its 404 a bare Error object, where OpenAI's API (and the
openai SDK, and Chorus) wrap it in {"error": ...}.
"""

import os
import subprocess
from pathlib import Path

from tests.helpers import ROOT

# CI lays shared/ beside the clone; OPENAI_SPEC points elsewhere when it is not there.
SPEC = Path(os.environ.get("OPENAI_SPEC", ROOT.parent / "shared" / "openai-openapi.json"))


def test_spec_fuzzing_finds_no_server_error_and_no_invalid_response(stack):
    assert SPEC.exists(), f"OpenAI's spec is expected at {SPEC}"
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "schemathesis"), "run", str(SPEC), "-u", stack.base_url,
         "--include-operation-id", "createChatCompletion", "--include-operation-id", "listModels",
         "--include-operation-id", "retrieveModel", "--include-operation-id", "createCompletion",
         "--include-operation-id", "createResponse", "--include-operation-id", "getResponse",
         "-c", "not_a_server_error,response_schema_conformance",
         "-n", "25", "--request-timeout", "120", "--generation-deterministic",
         "--phases", "examples,fuzzing", "-w", "2"],
        cwd=ROOT, env=os.environ | {"SCHEMATHESIS_HOOKS": "tests.conformance.schemathesis_hooks"},
        capture_output=True, text=True, timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-6000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert "failure" not in summary and "error" not in summary, summary  # warnings (404s, 400s) are expected
