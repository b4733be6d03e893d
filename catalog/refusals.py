"""One vocabulary for "no" (issue 18): every refusal the domain raises is a `DomainError`.

It carries what both front ends need: the HTTP status and problem type the API answers
(service/errors.py turns any of them into application/problem+json), an English and a Chinese
message, and the field at fault, which the pages show beside it (service/web/outcomes.py). A new
refusal is a subclass with its own status and type, never a new branch in a translator.

It lives in the lowest package because routing (here, in catalog) refuses too, and imports go
one way: workers → service → catalog.
"""

from typing import Any


class DomainError(Exception):
    """A request the domain refuses, and why, for people and for programs."""

    status = 422
    code = "validation-error"
    title = "Request validation failed"

    def __init__(
        self,
        message: str,
        message_zh: str,
        field: str | None = None,
        *,
        code: str | None = None,
        extensions: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message, self.message_zh, self.field = message, message_zh, field
        if code is not None:
            self.code = code
        self.extensions = extensions or {}


class NotFound(DomainError):
    """Missing, or outside the caller's reach: the same answer, so nothing can be probed."""

    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """Not now: the object's state (or another request) stands in the way."""

    status = 409
    title = "Not allowed now"
