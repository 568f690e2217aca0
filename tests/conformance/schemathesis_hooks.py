"""Schemathesis hook: generated chat requests name a model that exists, so they reach the team."""

import schemathesis


@schemathesis.hook
def map_body(context, body):
    if context.operation.definition.raw.get("operationId") == "createChatCompletion" and isinstance(body, dict):
        body["model"] = "chorus"
    return body
