"""Schemathesis hook: generated chat, completion and response requests name a model that exists, so they reach the team."""

import schemathesis

TEAM_OPERATIONS = {"createChatCompletion", "createCompletion", "createResponse"}


@schemathesis.hook
def map_body(context, body):
    if context.operation.definition.raw.get("operationId") in TEAM_OPERATIONS and isinstance(body, dict):
        body["model"] = "chorus"
    return body
