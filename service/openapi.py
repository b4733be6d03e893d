"""The API's contract: the OpenAPI document says what the API really sends.

flask-smorest documents errors with its own schema (`code`, `status`, `message`, `errors{}`) as
`application/json`, and a form plus files as a Swagger 2.0 `formData` parameter. Tongban answers
every error as `application/problem+json` (`service.errors`) and takes uploads as one multipart
body, so the `Api` and `Blueprint` here declare those instead, and document on every operation
the errors that the gate and the parsers answer before any view runs (401, 403, 400, 413, 404).
An operation declares only the errors of its own (409, 422 refusals, 429) with `alt_response`.
"""

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, ClassVar

import flask_smorest
from apispec import BasePlugin
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from service.accounts.auth import PERMISSION_ATTR, UPLOADS_ATTR
from service.policy import Permission

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Sent on every answer (service.app): the id to quote when reporting a problem.
REQUEST_ID_HEADER = {
    "description": "The request's id (the one sent, if well formed, else a new one); quote it "
    "when reporting a problem.",
    "schema": {"type": "string"},
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer"},
}
# Locations whose schema is the request body, not parameters.
_BODY_LOCATIONS = ("json", "form", "files", "multipart")


class FieldErrorSchema(Schema):
    """One field at fault and what is wrong with it."""

    field = fields.String(
        required=True,
        metadata={"description": "dotted path (`applicant.id_number`), a header, or `body`"},
    )
    messages = fields.List(fields.String(), required=True)


class RefusedMaterialSchema(Schema):
    """A material an application is refused for (all of them at once, 一次性告知)."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    deferrable = fields.Boolean(
        required=True, metadata={"description": "容缺受理 allowed: defer it with a date"}
    )
    reason = fields.String(required=True)
    reason_zh = fields.String(required=True)


class RowErrorSchema(Schema):
    """An error in an imported file, by sheet, row and column."""

    sheet = fields.String(required=True, metadata={"description": "the sheet's Chinese title"})
    row = fields.Integer(required=True, metadata={"description": "as Excel numbers it"})
    column = fields.String(required=True, allow_none=True)
    cell = fields.String(required=True, allow_none=True, metadata={"example": "J5"})
    message = fields.String(required=True, metadata={"description": "in Chinese"})


class ProblemSchema(Schema):
    """An error, as RFC 9457 problem details with Tongban's extensions (service.errors)."""

    type = fields.String(
        required=True,
        metadata={"description": "problem type URI, e.g. …/problems/validation-error"},
    )
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    detail_zh = fields.String(metadata={"description": "what the window shows (简体中文)"})
    errors = fields.List(
        fields.Nested(FieldErrorSchema), metadata={"description": "every field at fault"}
    )
    request_id = fields.String(metadata={"description": "as in the X-Request-ID header"})
    materials = fields.List(
        fields.Nested(RefusedMaterialSchema),
        metadata={"description": "an application refused for its materials: each of them"},
    )
    rows = fields.List(
        fields.Nested(RowErrorSchema),
        metadata={"description": "an imported file's errors (the first 1000)"},
    )
    rows_total = fields.Integer(metadata={"description": "how many errors the file has"})


class _Parser(FlaskParser):
    """webargs' parser with a `multipart` location: a multipart body's fields and files."""

    __location_map__: ClassVar[dict] = dict(
        multipart="load_multipart", **FlaskParser.__location_map__
    )

    def load_multipart(self, req, schema: Schema) -> Any:
        """The form's fields and its files as one mapping, for one schema of the whole body."""
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


# What every operation may answer before its view runs, by what it declares (service.accounts.auth
# gate(), service.guards, webargs): status -> (description, headers).
_GATE_PROBLEMS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("The body is not UTF-8 or not valid JSON, or holds NUL characters.", {}),
    401: (
        "No credential, or one unknown, expired or revoked.",
        {"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    403: (
        "This account or terminal may not do this, or its token is good for one step only "
        "(a password change, a second-factor enrolment), which the problem names.",
        {},
    ),
    404: ("Not found, or not one this caller may see (the same answer: no probing).", {}),
    413: ("The body is larger than this operation takes.", {}),
}


def _server_too_long() -> dict:
    """The 414 the HTTP server (gunicorn, limit_request_line) answers before the app sees the
    request, in its own words (HTML), not as a problem document. A new dict each time: smorest
    consumes the keys it reads."""
    return {
        "description": "The request line (path and query) is too long: the HTTP server refuses "
        "it itself, as an HTML page.",
        "content_type": "text/html",
        "schema": {"type": "string"},
    }


def problem_response(description: str, headers: dict[str, Any] | None = None) -> dict:
    """An `alt_response` keyword set for a problem answer."""
    response = {
        "schema": ProblemSchema,
        "content_type": PROBLEM_MEDIA_TYPE,
        "description": description,
    }
    if headers:
        response["headers"] = headers
    return response


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint that takes multipart bodies as one schema and documents the
    problems the gate answers on each operation."""

    ARGUMENTS_PARSER = _Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict[str, str]] = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def problem(
        self, status: int, description: str, headers: dict[str, Any] | None = None
    ) -> Callable:
        """Document a problem (`application/problem+json`) the operation answers."""
        return self.alt_response(status, **problem_response(description, headers))

    def add_url_rule(self, rule, endpoint=None, view_func=None, *args, **kwargs):
        """Register the route, then add the gate's problems to its operations' docs."""
        super().add_url_rule(rule, endpoint, view_func, *args, **kwargs)
        name = next(reversed(self._docs))  # the endpoint just stored (maybe renamed unique)
        for method, doc in self._docs[name].items():
            if method != "parameters":
                self._add_gate_problems(
                    doc,
                    getattr(view_func, "view_class", None) or view_func,
                    method,
                    has_path_args="<" in rule,
                )

    @staticmethod
    def _add_gate_problems(doc: dict, view: Any, method: str, *, has_path_args: bool) -> None:
        function = getattr(view, method, view) if isinstance(view, type) else view
        permission = getattr(function, PERMISSION_ATTR, Permission.ANY)
        params = doc.get("arguments", {}).get("parameters", [])
        takes_body = getattr(function, UPLOADS_ATTR, False) or any(
            p["in"] in _BODY_LOCATIONS for p in params
        )
        statuses = []
        if permission not in (Permission.PUBLIC, Permission.SIGNED):
            statuses += [401, 403]
        if has_path_args:
            statuses.append(404)
        if takes_body:
            statuses += [400, 413]
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        for status in statuses:
            if status not in responses:  # the operation's own description wins
                description, headers = _GATE_PROBLEMS[status]
                responses[status] = [problem_response(description, headers or None)]
        responses.setdefault(414, [_server_too_long()])


class _RequestIdPlugin(BasePlugin):
    """Declares the X-Request-ID header on every answer an operation documents inline."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        """Add the header to each response of each operation (references are done in Api)."""
        for operation in (operations or {}).values():
            for status, response in operation.get("responses", {}).items():
                # The 414 comes from the HTTP server before the app: no request id on it.
                if isinstance(response, dict) and str(status) != "414":
                    response.setdefault("headers", {})["X-Request-ID"] = "X_REQUEST_ID"


class Api(flask_smorest.Api):
    """flask-smorest's Api with errors declared as the problem documents the API sends."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app=None, *, spec_kwargs: dict | None = None, **kwargs):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), _RequestIdPlugin()]
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_responses(self) -> None:
        """The responses operations refer to by name (smorest's 422 for invalid arguments, the
        default for anything else, such as a 500 or a 503), as problem documents."""
        self.spec.components.header("X_REQUEST_ID", REQUEST_ID_HEADER)
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
            self._register_problem_response(status.name, response)
        self._register_problem_response(
            self.DEFAULT_ERROR_RESPONSE_NAME,
            {
                "description": "Any other error, as a problem: a 500, or a 503 when the "
                "database cannot be reached (with Retry-After).",
                "schema": ProblemSchema,
                "headers": {"Retry-After": RETRY_AFTER_HEADER},
            },
        )

    def _register_problem_response(self, name: str, response: dict[str, Any]) -> None:
        response.setdefault("headers", {})["X-Request-ID"] = {
            "$ref": "#/components/headers/X_REQUEST_ID"
        }
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response(name, response, lazy=True)
