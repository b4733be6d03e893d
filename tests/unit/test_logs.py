"""Log redaction, the log context and exception text: pure rules."""

import json
import logging
import re

import pytest

from service import logs
from service.logs import JsonFormatter, redact

pytestmark = pytest.mark.unit

PERSONAL = [
    "13922357295",
    "+86 139 2235 7295",
    "+86-139-2235-7295",
    "+8613922357295",
    "(+86)13922357295",
    "0086 139 2235 7295",
    "008613922357295",
    "139-2235-7295",
    "139 2235 7295",
    "0871-12345678",
    "(0871)1234567",
    "(0871) 1234567",
    "0871 1234 5678",
    "010-12345678",
    "+86 871 1234 5678",
    "53010219850612123X",
    "53010219850612123x",
    "530102 19850612 123X",
    "530102-19850612-123X",
    "530102 1985 0612 123X",
    "5301 0219 8506 1212 3X",
    "6222021234567890123",
    "6222021234567890",
    "6222 0212 3456 7890",
    "6222 0212 3456 7890 123",
    "6222-0212-3456-7890",
]

NOT_PERSONAL = [
    "530124-20261206-00204",
    "2026-12-06T06:30:39.123+00:00",
    "2026-12-06 06:30:39,123",
    "550e8400-e29b-41d4-a716-446655440000",
    "3f2e9c5a-1a2b-4c3d-8e9f-139223572950",
    "4f1c2e3a9b8d4c7e13922357295abcde",
    "127.0.0.1:8000",
    "[::1]:5432",
    "0.30000000000000004",
    "duration_ms 12.3",
    "1796539839",
    "port 6379",
    "000112001000",
]


def _digits(text: str) -> str:
    return re.sub(r"[^\dXx]", "", text)


@pytest.mark.parametrize("number", PERSONAL)
@pytest.mark.parametrize("around", ["{}", "电话{}。", "phone: {}, ok", '"{}"', "a\n{}\nb"])
def test_every_common_form_is_masked(number, around):
    out = redact(around.format(number))
    assert number not in out
    assert _digits(number) not in _digits(out)
    assert "*" in out


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_case_numbers_times_ids_and_ports_survive(text):
    assert redact(text) == text
    assert redact(f"case {text} done") == f"case {text} done"


def test_masks_keep_the_shape_and_the_ends():
    assert redact("13922357295") == "139****7295"
    assert redact("+86 139 2235 7295") == "+86 139 **** 7295"
    assert redact("53010219850612123X") == "5301**********123X"
    assert redact("0871-12345678") == "0***-****5678"


def _line(record: logging.LogRecord) -> dict:
    return json.loads(JsonFormatter().format(record))


def _record(msg: str = "m", args=(), exc_info=None, **extra) -> logging.LogRecord:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_every_field_is_redacted_before_json_escapes_it():
    line = _line(_record("x\n13922357295", note={"phone": 13922357295}, ids=["53010219850612123X"]))
    text = json.dumps(line, ensure_ascii=False)
    assert "13922357295" not in text and "53010219850612123X" not in text
    assert line["message"] == "x\n139****7295"


INNER = "inner 张三丰 13922357295"


def _raised(exc: Exception) -> Exception:
    """`exc` raised from a ValueError (messages from variables: a frame shows its source line,
    which is code, not data)."""
    try:
        try:
            raise ValueError(INNER)
        except ValueError as inner:
            raise exc from inner
    except Exception as caught:
        return caught


def test_a_traceback_names_types_and_frames_but_no_message():
    exc = _raised(RuntimeError("outer 阿依古丽·买买提 云南省昆明市五华区某路88号"))
    text = logs.safe_traceback(exc)
    assert "ValueError" in text and "RuntimeError" in text
    assert "_raised" in text  # the frame
    for secret in ("张三丰", "13922357295", "阿依古丽", "某路88号", "inner 张", "outer"):
        assert secret not in text
    line = _line(_record(exc_info=(type(exc), exc, exc.__traceback__)))
    assert "RuntimeError" in line["exc_info"] and "张三丰" not in line["exc_info"]


def test_code_errors_keep_their_message():
    assert "no attribute 'wanted'" in logs.error_text(AttributeError("no attribute 'wanted'"))
    assert logs.error_text(KeyError("张三丰")) == "KeyError"


def test_celery_failure_lines_lose_the_exception_text():
    exc = _raised(RuntimeError("张三丰 13922357295"))
    context = {"id": "t1", "name": "x", "description": "raised unexpected", "exc": repr(exc)}
    context["traceback"] = "Traceback ... RuntimeError: 张三丰"
    record = _record(
        "Task %(name)s[%(id)s] %(description)s: %(exc)s",
        (context,),
        (type(exc), exc, exc.__traceback__),
        data=context,
    )
    text = JsonFormatter().format(record)
    assert "张三丰" not in text and "Task x[t1] raised unexpected: RuntimeError" in text
    assert record.args["exc"] == repr(exc)  # other handlers' record left alone


def test_a_context_ends_with_its_request_whatever_was_set_inside():
    tokens = logs.open_context(request_id="r1")
    logs.case_no_var.set("530124-20261206-00204")
    assert _line(_record())["request_id"] == "r1"
    logs.close_context(tokens)
    assert all(var.get() is None for var in logs.CONTEXT_VARS)
    line = _line(_record("Worker exiting"))
    assert "request_id" not in line and "case_no" not in line
    with pytest.raises(TypeError):
        logs.open_context(user="x")


def test_a_context_without_tokens_is_cleared():
    logs.request_id_var.set("left-behind")
    logs.close_context(None)
    assert logs.request_id_var.get() is None
