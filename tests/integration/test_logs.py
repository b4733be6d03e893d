"""Personal data never reaches the logs, whatever the request does."""

import io
import logging
import re

from service.logs import JsonFormatter
from tests.helpers import application, submit, with_wrong_check_digit


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
