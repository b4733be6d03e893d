"""Personal data never reaches the logs, whatever the request does."""

import io
import json
import logging
import re

import pytest
from sqlalchemy import text

from service import logs
from service.clock import local_today
from service.logs import JsonFormatter
from tests.helpers import application, make_id_number, submit, with_wrong_check_digit


def test_no_id_number_or_phone_in_logs(app, client, terminal):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        fm = terminal("FM-01")
        body = application()
        id_number, phone = body["applicant"]["id_number"], body["applicant"]["phone"]
        created = submit(client, fm, body)
        assert created.status_code == 201
        client.get(f"/api/v1/applications/{created.get_json()['case_no']}", headers=fm)
        bad = application()
        bad["applicant"]["id_number"] = with_wrong_check_digit(id_number)
        assert submit(client, fm, bad).status_code == 422
        refused = application(facts={"insured_district": "530112"})
        refused["applicant"]["id_number"] = id_number
        assert submit(client, fm, refused).status_code == 422
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    output = stream.getvalue()
    assert created.get_json()["case_no"] in output  # the log did record the case
    for secret in (id_number, with_wrong_check_digit(id_number), phone):
        assert secret not in output
    # Request ids, outbox ids and hashes are long hex runs that may hold any four digits.
    prose = re.sub(r"[0-9a-f]{16,}", "", output.replace(created.get_json()["case_no"], ""))
    assert id_number[-4:] not in prose


# --- a corpus of real-looking personal data through every log path -------------------------


def _id_number_with_x() -> str:
    for _ in range(2000):
        number = make_id_number(region="530102", birth="19790314")
        if number.endswith("X"):
            return number
    raise AssertionError("no ID number with X drawn")


ID_X = _id_number_with_x()
NAME, NAME_2 = "张三丰", "阿依古丽·买买提"
ADDRESS = "云南省昆明市五华区某路88号"
CARD = "6222021234567890123"
MOBILE_FORMS = [
    "13922357295",
    "+86 139 2235 7295",
    "+86-139-2235-7295",
    "139-2235-7295",
    "139 2235 7295",
    "0086 139 2235 7295",
    "008613922357295",
]
LANDLINE_FORMS = ["0871-12345678", "(0871)1234567", "0871 1234 5678"]
ID_FORMS = [ID_X, f"{ID_X[:6]} {ID_X[6:14]} {ID_X[14:]}", f"{ID_X[:6]}-{ID_X[6:14]}-{ID_X[14:]}"]
CARD_FORMS = [CARD, " ".join(CARD[i : i + 4] for i in range(0, len(CARD), 4))]
NUMBERS = MOBILE_FORMS + LANDLINE_FORMS + ID_FORMS + CARD_FORMS
WORDS = [NAME, NAME_2, "阿依古丽", "买买提", ADDRESS, "某路88号"]
# Everything at once, as a free-text note or a value a statement chokes on.
EVERYTHING = " ".join([NAME, NAME_2, ADDRESS, *NUMBERS])


def _leaks(output: str) -> list[str]:
    """The corpus strings found in `output`, also with separators taken out of both."""
    plain = re.sub(r"[\s\-()+·]", "", output)
    found = [s for s in WORDS + NUMBERS if s in output]
    found += [s for s in NUMBERS if re.sub(r"[\s\-()+]", "", s) in plain]
    found += [s for s in NUMBERS if re.sub(r"\D", "", s).removeprefix("0086") in plain]
    return found


class _Records(logging.Handler):
    """Every record as logged, before any formatter: what any handler could have written."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def raw(self) -> str:
        lines = []
        for record in self.records:
            fields = dict(record.__dict__, message=record.getMessage())
            if record.exc_info:
                fields["exc_info"] = logging.Formatter().formatException(record.exc_info)
            lines.append(json.dumps(fields, ensure_ascii=False, default=repr))
        return "\n".join(lines)


@pytest.fixture
def captured():
    """The JSON lines written and the raw records, with SQL statements logged too (so that
    their parameters would show, were they not hidden)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    records = _Records()
    root, engine_log = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
    levels = root.level, engine_log.level
    root.addHandler(handler)
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    engine_log.setLevel(logging.INFO)
    try:
        yield stream, records
    finally:
        root.removeHandler(handler)
        root.removeHandler(records)
        root.setLevel(levels[0])
        engine_log.setLevel(levels[1])


def _corpus_application() -> dict:
    body = application(note=EVERYTHING[:500])
    body["applicant"].update(name=NAME, id_number=ID_X, phone="+86 139 2235 7295", address=ADDRESS)
    return body


def test_a_corpus_of_personal_data_reaches_no_log(
    app, client, terminal, migrated, captured, monkeypatch
):
    stream, records = captured
    fm = terminal("FM-01")

    # An application taken with it, and read back.
    created = submit(client, fm, _corpus_application())
    assert created.status_code == 201, created.get_json()
    case_no = created.get_json()["case_no"]
    assert client.get(f"/api/v1/applications/{case_no}", headers=fm).status_code == 200

    # Validation errors whose answers echo what was sent.
    bad = _corpus_application()
    bad["applicant"].update({"name": NAME_2, "phone": "0086 139 2235 7295", NAME: ADDRESS})
    bad["applicant"]["id_number"] = with_wrong_check_digit(ID_X)
    echoed = submit(client, fm, bad)
    assert echoed.status_code == 422 and NAME in echoed.get_data(as_text=True)
    twice = _corpus_application()
    twice["materials"].append({"code": CARD[:16]})
    twice["deferred_materials"] = [{"code": CARD[:16], "promised_by": local_today().isoformat()}]
    echoed = submit(client, fm, twice)
    assert echoed.status_code == 422 and CARD[:16] in echoed.get_data(as_text=True)

    # An unexpected error from a statement with the corpus as its parameters, whose driver
    # message quotes one of them.
    from service.casework import api as casework_api

    raised: list[str] = []
    original = casework_api.submit_application

    def failing(uow, *args):
        result = original(uow, *args)
        try:
            uow.session.execute(
                text(
                    "SELECT CAST(:name AS text), CAST(:address AS text), CAST(:phone AS text),"
                    " CAST(:id_number AS text), CAST(:everything AS integer)"
                ),
                {
                    "name": NAME,
                    "address": ADDRESS,
                    "phone": "13922357295",
                    "id_number": ID_X,
                    "everything": EVERYTHING,
                },
            )
        except Exception as exc:
            raised.append(repr(exc) + str(exc.__cause__))
            raise
        return result

    monkeypatch.setattr(casework_api, "submit_application", failing)
    failed = submit(client, fm, _corpus_application())
    monkeypatch.undo()
    assert failed.status_code == 500
    assert raised and NAME in raised[0] and ID_X in raised[0]  # the error did carry it

    # After the requests, the context is empty: a gunicorn line names no earlier request.
    assert all(var.get() is None for var in logs.CONTEXT_VARS)
    logging.getLogger("gunicorn.error").info("Worker exiting (pid: %s)", 4242)

    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert any(line.get("case_no") == case_no for line in lines)  # the log did record it
    unhandled = [line for line in lines if line["message"] == "unhandled error"]
    assert unhandled and "DataError" in unhandled[0]["traceback"]
    assert "CAST(%(everything)s AS integer)" in unhandled[0]["traceback"]  # the SQL is there
    assert any("parameters hidden" in line["message"] for line in lines)  # SQL was echoed
    exiting = [line for line in lines if line["message"].startswith("Worker exiting")]
    assert exiting and "request_id" not in exiting[0] and "case_no" not in exiting[0]
    assert _leaks(output) == []
    assert _leaks(records.raw()) == []  # not even a record another handler could format


def test_a_celery_task_logs_none_of_it_and_leaves_no_context(migrated, captured):
    from workers.celery_app import app as celery_app

    stream, _records = captured
    seen: dict[str, str | None] = {}

    @celery_app.task(name="tests.log_corpus", shared=False)
    def log_corpus() -> None:
        seen["task_id"] = logs.task_id_var.get()
        with migrated.sessionmaker() as session:
            try:
                session.execute(text("SELECT CAST(:v AS integer)"), {"v": EVERYTHING})
            except Exception as exc:
                # As the drain logs a failed batch (service/outbox/processing.py).
                logging.getLogger("tongban.worker").warning(
                    "batch failed", extra={"error": logs.error_text(exc), "note": CARD}
                )
                seen["error"] = str(exc)
            session.rollback()
            session.execute(text("SELECT CAST(:v AS integer)"), {"v": EVERYTHING})

    result = log_corpus.apply()
    assert result.failed()
    assert NAME in seen["error"]  # the driver's message quoted it
    assert seen["task_id"] == result.id
    assert all(var.get() is None for var in logs.CONTEXT_VARS)
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    batch = [line for line in lines if line["message"] == "batch failed"]
    assert batch and batch[0]["task_id"] == result.id
    assert "sqlstate=22P02" in batch[0]["error"]
    failure = [line for line in lines if "raised unexpected" in line["message"]]
    assert failure and "DataError" in failure[0]["message"]
    assert _leaks(output) == []


def test_the_access_log_names_the_source_address(app, client, captured):
    stream, _records = captured
    client.get("/api/v1/openapi.json", environ_base={"REMOTE_ADDR": "10.20.30.40"})
    access = [
        json.loads(line)
        for line in stream.getvalue().splitlines()
        if json.loads(line)["logger"] == "tongban.access"
    ]
    assert access and access[-1]["remote_addr"] == "10.20.30.40"
    assert access[-1]["request_id"]


def test_engines_hide_sql_parameters(app, migrated):
    from service.db import get_db

    with app.app_context():
        assert get_db().engine.hide_parameters
    assert migrated.engine.hide_parameters
