"""Logs as one JSON object per line, with the request id and case number where there is one.

Personal data must never reach a log. Code never logs it on purpose; as a second line of
defence a filter masks anything shaped like an ID or mobile number before a record is written.
"""

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
case_no_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("case_no", default=None)

_ID_NUMBER = re.compile(r"(?<![\d.])\d{17}[\dXx](?![\d.])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


def redact(text: str) -> str:
    """Mask ID numbers and mobile numbers in free text."""
    text = _ID_NUMBER.sub(lambda m: m.group()[:4] + "*" * 10 + m.group()[-4:], text)
    return _MOBILE.sub(lambda m: m.group()[:3] + "****" + m.group()[-4:], text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        case_no = getattr(record, "case_no", None) or case_no_var.get()
        if case_no:
            entry["case_no"] = case_no
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


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
