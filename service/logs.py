"""Logs as one JSON object per line, with the request id and case number where there is one.

Personal data must never reach a log. Code never logs it on purpose: no request bodies, no SQL
parameters (engines hide them), no exception messages (a database error's message quotes the
values it choked on; `exception_fields` logs types, frames and SQL text instead). As a second
line of defence the formatter masks anything shaped like a phone, ID or bank card number.

The context (request id, case number, task id) is opened at the start of each request or
Celery task and closed at its end (`open_context`, `close_context`), so a line logged between
two requests (gunicorn's "Worker exiting") names neither.
"""

import contextvars
import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
case_no_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("case_no", default=None)
task_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("task_id", default=None)
# Every variable a log line reads from the context; a request or task opens and closes them all.
CONTEXT_VARS = (request_id_var, case_no_var, task_id_var)

# A number starts and ends where no letter, digit or decimal point touches it, and no
# "word-" either: so hex ids, UUIDs (8-4-4-4-12), case numbers (530124-20261206-00204), ISO
# timestamps and decimals are never taken for one, while "电话13922357295" still is.
_START = r"(?<![0-9A-Za-z.])(?<![0-9A-Za-z]-)"
_END = r"(?![0-9A-Za-z])(?!-[0-9A-Za-z])(?!\.\d)"
_SEP = r"[ \-]"
_ID_NUMBER = re.compile(
    _START
    + r"(?:\d{17}[\dXx]"
    + rf"|\d{{6}}(?P<a>{_SEP})\d{{8}}(?P=a)\d{{3}}[\dXx]"  # 530102 19850612 123X
    + rf"|\d{{6}}(?P<b>{_SEP})\d{{4}}(?P=b)\d{{4}}(?P=b)\d{{3}}[\dXx]"  # 530102 1985 0612 123X
    + rf"|\d{{4}}(?P<c>{_SEP})\d{{4}}(?P=c)\d{{4}}(?P=c)\d{{4}}(?P=c)\d[\dXx])"  # in fours
    + _END
)
# 16 to 19 digits, run together or in fours (6222 0212 3456 7890 123).
_BANK_CARD = re.compile(
    _START
    + rf"(?:\d{{16,19}}|\d{{4}}(?P<s>{_SEP})\d{{4}}(?P=s)\d{{4}}(?P=s)\d{{4}}(?:(?P=s)\d{{1,3}})?)"
    + _END
)
_COUNTRY = rf"(?P<country>(?:\+|00)86{_SEP}?|\(\+?86\){_SEP}?)"
# 13922357295, 139-2235-7295, 139 2235 7295, +86 139 2235 7295, +86-139-..., 0086...
_MOBILE = re.compile(
    rf"(?<![0-9A-Za-z.+])(?<![0-9A-Za-z]-){_COUNTRY}?"
    + rf"(?P<number>1[3-9]\d(?P<s>{_SEP}?)\d{{4}}(?P=s)\d{{4}})"
    + _END
)
# 0871-12345678, (0871)1234567, 0871 1234 5678, 010-1234-5678, +86 871 12345678.
_LANDLINE = re.compile(
    rf"(?<![0-9A-Za-z.+])(?<![0-9A-Za-z]-)(?:{_COUNTRY}\(?0?|\(0|0)"
    + rf"(?P<number>[1-9]\d{{1,2}}\)?{_SEP}?\d{{3,4}}{_SEP}?\d{{4}})"
    + _END
)
_DIGIT = re.compile(r"[\dXx]")
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


def _mask(text: str, head: int, tail: int) -> str:
    """Star every digit of `text` but the first `head` and the last `tail`; keep separators."""
    positions = [m.start() for m in _DIGIT.finditer(text)]
    hidden = set(positions[head : len(positions) - tail])
    return "".join("*" if i in hidden else c for i, c in enumerate(text))


def _mask_number(match: re.Match[str], head: int) -> str:
    """A phone number with its country code kept and its number masked but the ends."""
    start = match.start("number") - match.start()
    return match.group()[:start] + _mask(match.group("number"), head, 4)


def redact(text: str) -> str:
    """Mask ID, bank card, mobile and landline numbers in free text, in their common forms."""
    text = _ID_NUMBER.sub(lambda m: _mask(m.group(), 4, 4), text)
    text = _BANK_CARD.sub(lambda m: _mask(m.group(), 4, 4), text)
    text = _MOBILE.sub(lambda m: _mask_number(m, 3), text)
    return _LANDLINE.sub(lambda m: _mask_number(m, 0), text)


def open_context(**values: str | None) -> list[contextvars.Token]:
    """Start a request's or task's log context: every context variable set, to the value given
    or to nothing. Hand the tokens to `close_context` when it ends."""
    unknown = set(values) - {var.name for var in CONTEXT_VARS}
    if unknown:
        raise TypeError(f"not a log context variable: {sorted(unknown)}")
    return [var.set(values.get(var.name)) for var in CONTEXT_VARS]


def close_context(tokens: list[contextvars.Token] | None) -> None:
    """End a log context: every variable back to what it was before `open_context`, whatever
    was set in between (a view's case number included); without tokens, cleared."""
    if not tokens:
        for var in CONTEXT_VARS:
            var.set(None)
        return
    for token in reversed(tokens):
        try:
            token.var.reset(token)
        except ValueError:  # opened in another context: clear rather than leave it behind
            token.var.set(None)


# Exceptions raised by the interpreter about code (names, attributes, modules), whose messages
# are worth keeping; every other message may quote data (a database error quotes the values it
# refused, `int("...")` the text), so only the type is logged.
_CODE_ERRORS = (AttributeError, NameError, ImportError, NotImplementedError, RecursionError)


def error_text(exc: BaseException) -> str:
    """One line about an exception that carries no personal data: its type, and for a database
    error the SQLSTATE, constraint, table and column; never the message or the parameters."""
    kind = type(exc)
    parts = [
        kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    ]
    if isinstance(exc, _CODE_ERRORS):
        parts.append(redact(str(exc).encode("ascii", "replace").decode()))
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        parts.append(f"sqlstate={sqlstate}")
    diag = getattr(orig, "diag", None)
    for field in ("schema_name", "table_name", "column_name", "constraint_name"):
        value = getattr(diag, field, None)
        if isinstance(value, str):
            parts.append(f"{field.removesuffix('_name')}={value}")
    return " ".join(parts)


def safe_traceback(exc: BaseException) -> str:
    """The traceback as Python prints it (chained exceptions too), each exception's message
    replaced by `error_text`, and a SQL error's statement (parameters are bound, never in it)."""
    lines: list[str] = []
    seen: set[int] = set()

    def walk(current: BaseException) -> None:
        seen.add(id(current))
        cause, context = current.__cause__, current.__context__
        if cause is not None and id(cause) not in seen:
            walk(cause)
            lines.append("\nThe above exception was the direct cause of the following:\n\n")
        elif context is not None and id(context) not in seen and not current.__suppress_context__:
            walk(context)
            lines.append("\nDuring handling of the above exception, another occurred:\n\n")
        if current.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_list(traceback.extract_tb(current.__traceback__)))
        lines.append(error_text(current) + "\n")
        statement = getattr(current, "statement", None)
        if isinstance(statement, str):
            lines.append(f"[SQL: {redact(statement)}]\n")

    walk(exc)
    return "".join(lines).rstrip("\n")


def exception_fields(exc: BaseException) -> dict[str, str]:
    """`extra` for a log line about an unexpected exception: its type and a safe traceback.
    Log these instead of `exc_info`, which every handler (and test capture) would format with
    the exception's message."""
    return {"error_type": type(exc).__name__, "traceback": safe_traceback(exc)}


def _redacted(value: Any) -> Any:
    """A log field with numbers masked, as JSON can carry it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        text = str(value)
        masked = redact(text)
        return value if masked == text else masked
    if isinstance(value, dict):
        return {str(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redacted(v) for v in value]
    return redact(str(value))


def _without_exception_text(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of a record whose arguments name an exception (Celery's "Task ... raised
    unexpected: %(exc)s", with the traceback text in `data`) with the exception's type in place
    of its text; other records as they are."""
    args = record.args
    if not isinstance(args, dict) or not {"exc", "traceback"} & set(args):
        return record
    exc = record.exc_info[1] if record.exc_info else None
    hidden = error_text(exc) if exc is not None else "(exception text not logged)"
    safe = {**args, "exc": hidden, "traceback": safe_traceback(exc) if exc is not None else ""}
    copy = logging.makeLogRecord(record.__dict__)
    copy.args = safe
    if isinstance(getattr(copy, "data", None), dict):
        copy.data = safe
    return copy


class JsonFormatter(logging.Formatter):
    """One JSON object per line; every value redacted (before JSON escapes a newline into a
    letter next to a number)."""

    def format(self, record: logging.LogRecord) -> str:
        record = _without_exception_text(record)
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for var in CONTEXT_VARS:
            value = getattr(record, var.name, None) or var.get()
            if value:
                entry[var.name] = value
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(_redacted(entry), ensure_ascii=False)

    def formatException(self, ei) -> str:
        """Libraries' tracebacks (gunicorn's, Celery's) without messages, like our own."""
        exc = ei[1]
        return safe_traceback(exc) if exc is not None else ""


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time, so a swapped stream never breaks logging."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(level: str = "INFO") -> None:
    """Send every logger through one JSON handler on stderr."""
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
