"""One error hierarchy for the public API, rendered to OpenAI's error shape in one place."""

from __future__ import annotations

import logging
import math

from fastapi.responses import JSONResponse

from orchestration.protocol import AgentCallError

log = logging.getLogger("chorus.gateway")
# A try again soon may find the team's writer or LLM back, or free; said when the team knows no better.
TEAM_RETRY_AFTER_SECONDS = 2.0


class APIError(Exception):
    status = 500
    type = "server_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class BadRequest(APIError):
    status, type = 400, "invalid_request_error"


class Unauthorized(APIError):
    status, type = 401, "invalid_request_error"


class NotFound(APIError):
    status, type = 404, "invalid_request_error"


class PayloadTooLarge(APIError):
    status, type = 413, "invalid_request_error"


class RateLimited(APIError):
    status, type = 429, "rate_limit_error"


class StructuredOutputFailed(APIError):
    """The team's function call or JSON did not match the request, after the writer's retry."""

    status, type = 500, "server_error"

    def __init__(self, message: str):
        super().__init__(message, code="invalid_structured_output")


class ServiceUnavailable(APIError):
    status, type = 503, "service_unavailable"

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class DeadlinePassed(APIError):
    status, type = 504, "timeout"

    def __init__(self):
        super().__init__("The request's deadline passed before the team answered.", code="deadline_exceeded")


def team_failure(error: AgentCallError, when: str = "") -> APIError:
    """The client's error for a team that could not answer: a 504 when the deadline passed, else a 503
    with retry-after. What went wrong goes to the log (and the trace), not to the client's text."""
    log.warning("the team could not answer%s: %s", when, error)
    if error.deadline:
        return DeadlinePassed()
    return ServiceUnavailable(
        "The team could not answer this request right now; try again shortly.",
        code="team_unavailable",
        retry_after=error.retry_after or TEAM_RETRY_AFTER_SECONDS,
    )


def render(error: APIError, request_id: str | None = None) -> JSONResponse:
    headers = {}
    if error.status >= 500:
        # The whole team already ran (or could not): the SDK must not silently run it again.
        headers["x-should-retry"] = "false"
    if request_id:
        headers["x-request-id"] = request_id
    if (retry_after := getattr(error, "retry_after", None)) is not None:
        headers["retry-after"] = str(max(math.ceil(retry_after), 1))
    return JSONResponse(error.body(), status_code=error.status, headers=headers)
