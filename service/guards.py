"""Refusing input no endpoint can store: NUL characters, which PostgreSQL text cannot hold.

Checked once for every request rather than in each schema, so that no new field can forget it.
"""

from flask import Flask, request

from service.errors import Problem

_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


def _nul_problem(where: str) -> Problem:
    return Problem(
        400,
        "validation-error",
        "Request validation failed",
        "NUL characters are not allowed.",
        detail_zh="提交的内容含有不可见的控制字符。",
        errors=[{"field": where, "messages": ["NUL characters are not allowed."]}],
    )


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul() -> None:
        if "\x00" in request.path:
            raise _nul_problem("path")
        query = request.query_string.lower()
        if b"%00" in query or b"\x00" in query:
            raise _nul_problem("query")
        if request.mimetype == "application/json":
            body = request.get_data(cache=True).lower()
            if b"\x00" in body or b"\\u0000" in body:
                raise _nul_problem("body")
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
