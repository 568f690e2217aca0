"""Node tests in tests/js/: their packages (pinned in package-lock.json) and a run of one file.

`npm ci` installs the packages once, and again when the lock file changes. node and npm come with
the machine; Chromium (for the playground) is installed by `make test`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess

from tests.helpers import ROOT

JS = ROOT / "tests" / "js"


def installed() -> None:
    assert shutil.which("node") and shutil.which("npm"), "node and npm are expected on this machine"
    stamp = JS / "node_modules" / ".package-lock.json"
    lock = JS / "package-lock.json"
    with open(JS / ".installing", "w") as guard:  # two xdist workers may ask at once: one installs
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True, timeout=600
            )


def run_node_tests(file: str, env: dict[str, str]) -> str:
    """Run one node:test file; every test must pass and none be skipped. Returns the TAP output."""
    installed()
    done = subprocess.run(
        ["node", "--test", "--test-reporter=tap", file],
        cwd=JS,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# skipped 0" in done.stdout, done.stdout[-2000:]
    return done.stdout
