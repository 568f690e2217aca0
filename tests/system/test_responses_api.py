"""The Responses API through the openai SDK (strict response validation), on the real stack."""

import json

import httpx
import jsonschema
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a city",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "required": ["city"],
        "properties": {"city": {"type": "string"}},
    },
}


@pytest.fixture(scope="module")
def client(stack):
    with OpenAI(
        base_url=stack.base_url, api_key="unused", max_retries=0, timeout=180, _strict_response_validation=True
    ) as c:
        yield c


def stored_conversation(stack, conversation_id):
    return httpx.get(f"{stack.base_url}/conversations/{conversation_id}")


def test_create_answers_with_computed_figures_and_is_stored_for_retrieval(client):
    response = client.responses.create(model="chorus", input="What is 15% of 240?", instructions="Be brief.")
    assert response.status == "completed" and response.id.startswith("resp_")
    assert "36" in response.output_text
    assert response.usage.output_tokens > 0 and response.usage.input_tokens > 0
    assert response.metadata["agents_used"].split(",")[0] == "analyst"
    again = client.responses.retrieve(response.id)
    assert again.output_text == response.output_text and again.instructions == "Be brief."


def test_previous_response_id_continues_that_conversation_once(stack, client):
    first = client.responses.create(model="chorus", input="What is 15% of 240?")
    second = client.responses.create(model="chorus", input="and 20%?", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert second.conversation.id == first.conversation.id
    assert "48" in second.output_text  # 20% of 240: the earlier turn reached the team
    messages = stored_conversation(stack, first.conversation.id).json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]


def test_stream_sends_typed_events_in_order_and_text_before_the_end(client):
    with client.responses.stream(model="chorus", input="What is 6 times 7?") as stream:
        events = [event for event in stream]
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == final.output_text
    assert kinds.index("response.output_item.added") < kinds.index("response.output_text.delta")
    assert kinds.index("response.output_text.done") < kinds.index("response.output_item.done")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "42" in final.output_text
    assert client.responses.retrieve(final.id).output_text == final.output_text


def test_function_tools_round_trip_streamed_and_not(stack, client):
    call_response = client.responses.create(
        model="chorus", input="What is the weather in Paris?", tools=[WEATHER], tool_choice="required"
    )
    [call] = call_response.output
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id
    jsonschema.validate(json.loads(call.arguments), WEATHER["parameters"])
    answer = client.responses.create(
        model="chorus",
        previous_response_id=call_response.id,
        tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 18 C"}],
    )
    assert answer.output[0].type == "message" and answer.output_text
    roles = [m["role"] for m in stored_conversation(stack, answer.conversation.id).json()["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"]

    with client.responses.stream(
        model="chorus",
        input="Weather in Rome?",
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert "response.function_call_arguments.delta" in kinds
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert final.output[0].type == "function_call" and final.output[0].arguments == done.arguments


def test_text_format_json_schema_parses_into_the_model(client):
    class City(BaseModel):
        name: str
        country: str

    parsed = client.responses.parse(model="chorus", input="Paris is the capital of France.", text_format=City)
    assert isinstance(parsed.output_parsed, City)


def test_max_output_tokens_makes_the_response_incomplete(client):
    response = client.responses.create(
        model="chorus-writer", input="Write a long story about rain.", max_output_tokens=16
    )
    assert response.status == "incomplete" and response.incomplete_details.reason == "max_output_tokens"
    assert response.usage.output_tokens <= 16


def test_store_false_keeps_nothing(stack, client):
    response = client.responses.create(model="chorus-writer", input="Say hi.", store=False)
    assert response.store is False and response.conversation is None
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="chorus", input="and?", previous_response_id=response.id)
    assert stored_conversation(stack, response.metadata["conversation_id"]).status_code == 404


def test_delete_then_not_found(client):
    response = client.responses.create(model="chorus-writer", input="Say hi.")
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


@pytest.mark.parametrize(
    "body, status, param",
    [
        ({"input": "hi", "tools": [{"type": "web_search"}]}, 400, "tools.0.type"),
        ({"input": "hi", "previous_response_id": "resp_missing"}, 404, "previous_response_id"),
        ({"input": [{"type": "item_reference", "id": "msg_missing"}]}, 400, "input.0.id"),
        ({"input": "hi", "background": True}, 400, "background"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]}, 400, "input.0.content"),
    ],
)
def test_bad_requests_get_openai_shaped_errors(stack, body, status, param):
    reply = httpx.post(f"{stack.base_url}/responses", json={"model": "chorus", **body}, timeout=60)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["param"] == param
