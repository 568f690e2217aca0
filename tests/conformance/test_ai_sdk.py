"""The Vercel AI SDK's default `openai` provider (the Responses API), from npm, against the gateway.

tests/js/ pins the SDK in package-lock.json. The node test runner's own summary decides: every test
passes and none is skipped.
"""

from tests.node import run_node_tests


def test_ai_sdk_generate_stream_object_and_tools_through_the_responses_api(stack):
    output = run_node_tests("ai_sdk.test.mjs", {"CHORUS_BASE_URL": stack.base_url.removesuffix("/v1")})
    assert "# pass 5" in output, output[-2000:]
