"""openai-python's own API tests for chat and legacy completions and models, run against the gateway.

They ship in the SDK's source distribution (fetched once with pip into .cache/). Selected: chat and
legacy completions create, with all params too (plain, raw and streaming-response variants;
overload 1 without and 2 with `stream=True`), models list and retrieve, each in strict and loose
mode, sync and async. Excluded, and why: legacy completions `*_with_all_params` (they send `suffix`,
insertion, which Chorus refuses with a 400 rather than ignore), the stored chat-completion
endpoints (retrieve/update/list/delete of /chat/completions/{id}: Chorus does not store
completions by id) and models delete (models are not deletable). The Responses API's own tests
call fixed ids of a mock server with no input; tests/system/test_responses_api.py covers it. The
stack aliases the suite's model names, gpt-6-astra and gpt-3.5-turbo-instruct, to `chorus`.
"""

import importlib.metadata
import subprocess
import sys
import tarfile

import pytest

from tests.helpers import ROOT

SELECTIONS = {  # name: (file, which of its tests, how many run: each in several client variants)
    "chat": ("tests/api_resources/chat/test_completions.py", "create_overload", 30),
    "completions": ("tests/api_resources/test_completions.py", "create_overload and not with_all_params", 30),
    "models": ("tests/api_resources/test_models.py", "retrieve or list", 35),
}


def sdk_source() -> "Path":  # noqa: F821
    version = importlib.metadata.version("openai")
    cache = ROOT / ".cache" / "openai-sdist"
    unpacked = cache / f"openai-{version}"
    if not unpacked.exists():
        cache.mkdir(parents=True, exist_ok=True)
        pip = ROOT / ".tools" / "bin" / "pip"
        subprocess.run(
            [
                str(pip) if pip.exists() else "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"openai=={version}",
                "-d",
                str(cache),
            ],
            check=True,
        )
        with tarfile.open(cache / f"openai-{version}.tar.gz") as archive:
            archive.extractall(cache, filter="data")
    return unpacked


@pytest.mark.parametrize("name", SELECTIONS)
def test_openai_python_api_tests_pass_against_the_gateway(stack, name):
    path, selection, expected = SELECTIONS[name]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            path,
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=--tb=short",
            "-k",
            selection,
        ],
        cwd=sdk_source(),
        env={"PATH": "/usr/bin:/bin", "TEST_API_BASE_URL": stack.base_url},
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]
    assert done.returncode == 0, done.stdout[-5000:]
    assert summary.startswith(f"{expected} passed") and "skipped" not in summary, summary
