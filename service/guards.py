"""Refusing input no endpoint can store or should parse, once for every request rather than in
each schema, so that no new field can forget it:

- NUL characters anywhere (PostgreSQL text cannot hold them);
- in a JSON body of any JSON type (`application/json`, `application/*+json`): text that is not
  valid JSON or UTF-8, nesting deeper than `MAX_DEPTH`, a list or object of more than
  `MAX_ITEMS` entries (counted before the body is parsed, so a hostile body costs a scan of at
  most the route's body limit, never a deep recursion or a huge parse), and strings with lone
  surrogates or control characters other than tab and line breaks.

These run after `accounts.auth.gate`: only an authenticated, authorized request (or a public
one) gets this far, and its body is already capped.
"""

import json
import re
from typing import Any

from flask import Flask, current_app, request

from service.accounts.auth import PERMISSION_ATTR, declared
from service.errors import Problem
from service.policy import Permission

_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
MAX_DEPTH = 32
MAX_ITEMS = 1000
# A JSON string, or one structural character. An unterminated string runs to the end of the
# body rather than failing: a failed string match would be retried at the next quote, and a body
# of escaped quotes would cost a scan to the end for each of them (quadratic time).
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[\[\]{},]', re.DOTALL)
# Control characters other than tab, LF and CR; lone surrogates (only \ud800-style escapes can
# produce them: UTF-8 cannot carry them and is decoded strictly).
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _invalid(field: str, message: str, message_zh: str, status: int = 400) -> Problem:
    return Problem(
        status,
        "validation-error",
        "Request validation failed",
        message,
        detail_zh=message_zh,
        errors=[{"field": field, "messages": [message]}],
    )


def _nul_problem(where: str) -> Problem:
    return _invalid(where, "NUL characters are not allowed.", "提交的内容含有不可见的控制字符。")


def _check_shape(text: str) -> None:
    """Depth and entry counts, from the structural characters outside strings."""
    if text.count("[") + text.count("{") <= MAX_DEPTH and text.count(",") < MAX_ITEMS:
        return  # cannot be too deep or too long: skip the scan (the usual case)
    entries: list[int] = []
    for token in _TOKENS.finditer(text):
        c = token.group()[0]
        if c in "[{":
            entries.append(0)
            if len(entries) > MAX_DEPTH:
                raise _invalid(
                    "body",
                    f"JSON nested deeper than {MAX_DEPTH} levels.",
                    "提交的内容层级过深。",
                )
        elif c in "]}":
            if entries:
                entries.pop()
        elif c == "," and entries:
            entries[-1] += 1
            if entries[-1] >= MAX_ITEMS:
                raise _invalid(
                    "body",
                    f"A JSON list or object has more than {MAX_ITEMS} entries.",
                    "提交的列表过长。",
                )


def _bad_text_at(value: Any, path: str) -> str | None:
    """The dotted path of the first string (or key) with forbidden characters, if any."""
    if isinstance(value, str):
        return path if _BAD_TEXT.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if _BAD_TEXT.search(key):
                return path or "body"
            found = _bad_text_at(item, where)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _bad_text_at(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def check_json_body() -> None:
    """Refuse a JSON body (of any JSON type) that is malformed, too deep or too long, or holds
    text no field may hold. Views of signed requests call it after checking the signature."""
    if not request.is_json:
        return
    raw = request.get_data(cache=True)
    if not raw:
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _invalid("body", "The body is not UTF-8.", "提交的内容不是UTF-8编码。") from err
    if "\x00" in text:
        raise _nul_problem("body")
    _check_shape(text)
    try:
        value = json.loads(text)
    except ValueError as err:
        raise _invalid("body", f"Not valid JSON: {err}", "提交的内容不是有效的JSON。") from err
    if "\\u" in text:
        where = _bad_text_at(value, "")
        if where is not None:
            raise _invalid(
                where or "body",
                "Control characters and unpaired surrogates are not allowed.",
                "提交的内容含有不可见的控制字符或无效字符。",
                status=422,
            )


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_bad_input() -> None:
        if "\x00" in request.path:
            raise _nul_problem("path")
        query = request.query_string.lower()
        if b"%00" in query or b"\x00" in query:
            raise _nul_problem("query")
        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        if view is None or request.method == "OPTIONS":
            return  # nothing will read the body: an unrouted path or a CORS preflight
        if request.is_json:
            if declared(view, PERMISSION_ATTR) != Permission.SIGNED:
                check_json_body()
        elif request.mimetype == _FORM and b"%00" in request.get_data(cache=True):
            raise _nul_problem("body")
        elif request.mimetype == _MULTIPART:
            _refuse_nul_in_parts()


def _refuse_nul_in_parts() -> None:
    """A multipart body's fields and file names (parsed here, once; the views reuse the parse).

    The raw body cannot be searched as for a urlencoded one: a scan's bytes may hold NUL."""
    # A part whose name werkzeug cannot read (`name="a\"`) comes with the name None.
    for name, value in request.form.items(multi=True):
        if "\x00" in (name or "") or "\x00" in value:
            raise _nul_problem(name.replace("\x00", "") or "body")
    for name, upload in request.files.items(multi=True):
        if "\x00" in (name or "") or "\x00" in (upload.filename or ""):
            raise _nul_problem(name.replace("\x00", "") or "file")
