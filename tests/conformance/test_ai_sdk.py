"""The Vercel AI SDK's default `openai` provider (the Responses API), from npm, against the gateway.

tests/js/ pins the SDK in package-lock.json; `npm ci` installs it once (node and npm come with the
machine). The node test runner's own summary decides: every test passes and none is skipped.
"""

import os
import shutil
import subprocess

from tests.helpers import ROOT

JS = ROOT / "tests" / "js"


def installed() -> None:
    stamp = JS / "node_modules" / ".package-lock.json"
    lock = JS / "package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True,
                       timeout=600)


def test_ai_sdk_generate_stream_object_and_tools_through_the_responses_api(stack):
    assert shutil.which("node") and shutil.which("npm"), "node and npm are expected on this machine"
    installed()
    done = subprocess.run(
        ["node", "--test", "--test-reporter=tap", "ai_sdk.test.mjs"], cwd=JS,
        env=os.environ | {"CHORUS_BASE_URL": stack.base_url.removesuffix("/v1")},
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# skipped 0" in done.stdout
    assert "# pass 5" in done.stdout, done.stdout[-2000:]
