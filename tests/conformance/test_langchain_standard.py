"""LangChain's standard chat-model integration tests, with ChatOpenAI pointed at the gateway."""

import pytest
from langchain_openai import ChatOpenAI
from langchain_tests.integration_tests import ChatModelIntegrationTests

GATEWAY = {}


@pytest.fixture(autouse=True, scope="module")
def _gateway(stack):
    GATEWAY["base_url"] = stack.base_url


class TestChorusThroughChatOpenAI(ChatModelIntegrationTests):
    """Tool calling, tool choice, structured output (json_schema) and JSON mode switched on."""

    @property
    def chat_model_class(self):
        return ChatOpenAI

    @property
    def chat_model_params(self) -> dict:
        return {
            "model": "chorus",
            "base_url": GATEWAY["base_url"],
            "api_key": "unused",
            "stream_usage": True,
            "temperature": 0,
            "max_retries": 0,
            "timeout": 120,
        }

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def structured_output_kwargs(self) -> dict:
        return {"method": "json_schema"}

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "chorus-writer"

    @property
    def returns_usage_metadata(self) -> bool:
        return True
