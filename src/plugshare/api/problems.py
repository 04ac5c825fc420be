"""RFC 9457 problem details: every error the API returns, one function per kind.

A handler raises ``ProblemError(problem)`` (or returns ``problem.response()``);
the app turns it into an ``application/problem+json`` response. Validation
problems become the ``errors`` list with their requirement, pointer and reason,
whose reasons already withhold personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

from plugshare.validation.problems import Problem as ValidationProblem

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://plugshare.uk/problems/"
REALM = 'Bearer realm="plugshare"'

TITLES = {
    "bad-request": "Bad request",
    "unauthorized": "Unauthorized",
    "forbidden": "Forbidden",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "precondition-failed": "Precondition failed",
    "payload-too-large": "Payload too large",
    "unsupported-media-type": "Unsupported media type",
    "invalid-message": "Invalid message",
    "too-many-requests": "Too many requests",
    "internal-error": "Internal server error",
    "service-unavailable": "Service unavailable",
}
STATUS = {
    "bad-request": 400, "unauthorized": 401, "forbidden": 403, "not-found": 404, "method-not-allowed": 405,
    "precondition-failed": 412, "payload-too-large": 413, "unsupported-media-type": 415, "invalid-message": 422,
    "too-many-requests": 429, "internal-error": 500, "service-unavailable": 503,
}
SLUG_OF_STATUS = {status: slug for slug, status in STATUS.items()}


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


@dataclass
class Problem:
    """One problem document and the headers that go with it."""

    slug: str
    detail: str
    instance: str
    requirement: str | None = None
    errors: list[dict[str, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None

    @property
    def status_code(self) -> int:
        return self.status or STATUS.get(self.slug, 500)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.slug, "title": TITLES.get(self.slug, "Error"), "status": self.status_code,
            "detail": self.detail, "instance": self.instance,
        }
        if self.requirement:
            body["requirement"] = self.requirement
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    def response(self) -> ProblemResponse:
        return ProblemResponse(self.body(), status_code=self.status_code, headers=self.headers or None)


class ProblemError(Exception):
    """Raised by a handler to answer with a problem."""

    def __init__(self, problem: Problem):
        super().__init__(problem.detail)
        self.problem = problem


def error_items(problems: Iterable[ValidationProblem]) -> list[dict[str, str]]:
    """Validation problems as the ``errors`` of a problem document or an import acknowledgement."""
    return [{"requirement": p.requirement, "pointer": p.pointer, "reason": p.reason} for p in problems]


def bad_request(instance: str, detail: str, requirement: str | None = None) -> Problem:
    return Problem("bad-request", detail, instance, requirement)


def unauthorized(instance: str, detail: str = "give a valid bearer token: Authorization: Bearer psk_...") -> Problem:
    return Problem("unauthorized", detail, instance, "PS-API-002", headers={"WWW-Authenticate": REALM})


def forbidden(instance: str, council: str) -> Problem:
    return Problem("forbidden", f"the token is not bound to council {council}", instance, "PS-API-003")


def not_found(instance: str, detail: str = "there is nothing at this path") -> Problem:
    return Problem("not-found", detail, instance)


def method_not_allowed(instance: str, allow: Iterable[str], detail: str | None = None) -> Problem:
    methods = list(allow)
    detail = detail or (f"this path accepts {', '.join(methods)}" if methods else "this path accepts no method")
    return Problem("method-not-allowed", detail, instance, headers={"Allow": ", ".join(methods)})


def precondition_failed(instance: str, detail: str) -> Problem:
    return Problem("precondition-failed", detail, instance, "PS-API-010")


def payload_too_large(instance: str, limit: int, what: str = "the request body") -> Problem:
    return Problem("payload-too-large", f"{what} is over the limit of {limit:,} bytes", instance, "PS-API-016")


def unsupported_media_type(instance: str, expected: str, given: str | None) -> Problem:
    return Problem("unsupported-media-type", f"send {expected}, not {given or 'a body without Content-Type'}",
                   instance)


def invalid_message(instance: str, detail: str, requirement: str,
                    errors: Iterable[ValidationProblem] | None = None) -> Problem:
    return Problem("invalid-message", detail, instance, requirement,
                   error_items(errors) if errors is not None else None)


def internal_error(instance: str) -> Problem:
    return Problem("internal-error", "the server failed to answer this request; the failure is logged", instance)


def from_status(instance: str, status: int, detail: str | None = None,
                headers: Mapping[str, str] | None = None) -> Problem:
    """A problem for an HTTP status raised by the framework (unknown path, method, ...)."""
    slug = SLUG_OF_STATUS.get(status, "bad-request" if 400 <= status < 500 else "internal-error")
    problem = Problem(slug, detail or TITLES[slug].lower(), instance, headers=dict(headers or {}), status=status)
    return problem
