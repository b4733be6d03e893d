"""Errors as RFC 9457 problem details (application/problem+json), with per-field errors.

Every error the API answers goes through `problem()`, so clients see one shape: `type`, `title`,
`status`, `detail`, an optional `detail_zh` to show at the window, and `errors` naming each field
at fault as a dotted path (`applicant.id_number`).
"""

import logging
from typing import Any

import sqlalchemy.exc
from flask import Flask, Response, g, json
from werkzeug.exceptions import HTTPException, InternalServerError

from catalog.refusals import DomainError
from service import logs

PROBLEM_BASE = "https://tongban.example/problems/"
# What a window shows for an HTTP error that carries no message of its own.
_HTTP_DETAIL_ZH = {413: "提交的内容过大，请压缩或分开上传。"}
log = logging.getLogger("tongban.errors")


class Problem(Exception):
    """An error the API reports as a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        detail_zh: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ):
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.detail_zh, self.errors, self.headers = detail_zh, errors, headers or {}
        self.extensions = extensions or {}


def problem_response(p: Problem) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + p.code,
        "title": p.title,
        "status": p.status,
    }
    if p.detail:
        body["detail"] = p.detail
    if p.detail_zh:
        body["detail_zh"] = p.detail_zh
    if p.errors:
        body["errors"] = p.errors
    body.update(p.extensions)
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    response = Response(
        json.dumps(body, ensure_ascii=False), status=p.status, mimetype="application/problem+json"
    )
    response.headers.update(p.headers)
    return response


def flatten_messages(messages: Any, path: str = "") -> list[dict[str, Any]]:
    """Turn marshmallow's nested messages into [{"field": "a.b", "messages": [...]}]."""
    if isinstance(messages, dict):
        out: list[dict[str, Any]] = []
        for key, value in messages.items():
            name = str(key)
            # webargs nests by location ("json", "query"); the location is not part of the field.
            if not path and name in (
                "json",
                "query",
                "headers",
                "form",
                "files",
                "multipart",
                "path_params",
            ):
                out.extend(flatten_messages(value, ""))
                continue
            if name == "_schema":
                out.extend(flatten_messages(value, path))
                continue
            out.extend(flatten_messages(value, f"{path}.{name}" if path else name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": path or "body", "messages": list(messages)}]
    if isinstance(messages, list):
        out = []
        for message in messages:
            out.extend(flatten_messages(message, path))
        return out
    return [{"field": path or "body", "messages": [str(messages)]}]


def http_problem(exc: HTTPException) -> Problem:
    """An HTTP error (routing, methods, smorest's validation) as a problem."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    status = exc.code or 500
    if messages is not None:
        return Problem(
            status,
            "validation-error",
            "Request validation failed",
            "One or more fields are invalid; see errors.",
            detail_zh="提交的信息有误，请按提示修改。",
            errors=flatten_messages(messages),
            headers=dict(data.get("headers") or {}),
        )
    headers = dict(exc.get_headers())
    headers.pop("Content-Type", None)
    return Problem(
        status,
        exc.name.lower().replace(" ", "-"),
        exc.name,
        exc.description,
        detail_zh=_HTTP_DETAIL_ZH.get(status),
        headers=headers,
    )


def domain_problem(err: DomainError) -> Problem:
    """The domain's refusal as the API answers it: its status, type, messages and field."""
    return Problem(
        err.status,
        err.code.replace("_", "-"),
        err.title,
        err.message,
        detail_zh=err.message_zh,
        errors=[{"field": err.field, "messages": [err.message]}] if err.field else None,
        extensions=err.extensions,
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)

    @app.errorhandler(DomainError)
    def _refused(err: DomainError) -> Response:
        return problem_response(domain_problem(err))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return problem_response(http_problem(exc))

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    @app.errorhandler(sqlalchemy.exc.TimeoutError)
    def _database_unavailable(exc: Exception) -> Response:
        # The database is down, restarting or out of connections: not the request's fault,
        # and clients (and load balancers) should come back, not report a bug.
        log.warning("database unavailable", extra={"error_type": type(exc).__name__})
        return problem_response(
            Problem(
                503,
                "service-unavailable",
                "Service unavailable",
                "The database cannot be reached just now. Nothing was saved; retry shortly.",
                detail_zh="系统暂时无法连接数据库，本次提交未保存，请稍后重试。",
                headers={"Retry-After": "5"},
            )
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return _http(exc)
        # Not log.exception: the exception's message (a database error's quotes the values it
        # refused) would reach every handler; its type, frames and SQL text are enough.
        log.error("unhandled error", extra=logs.exception_fields(exc))
        return problem_response(
            Problem(
                500,
                "internal-error",
                "Internal error",
                InternalServerError.description + " Nothing was saved; it is safe to retry.",
                detail_zh="系统内部错误，本次提交未保存，请稍后重试。",
            )
        )
