"""What the pages show: personal data masked, scans only to those who may read them, the
queue's and the supervisor's lists, the receipt's wording, the timeline's labels, and which
steps are offered."""

import dataclasses
import re
from pathlib import Path

import pytest

from service.cases.lifecycle import Action
from service.ratings.levels import STEPS
from service.web.casepage.labels import EVENT_ZH
from tests.helpers import application, deliver_inline, event_types, scalar, submit
from tests.web.pages import (
    case_form,
    post_supplement,
    request_supplement,
    staff_client,
    window_client,
)

SERVICE = Path(__file__).resolve().parents[2] / "service"


def _received_case(client, terminal, migrated, settings) -> str:
    response = submit(client, terminal("FM-01"), application())
    assert response.status_code == 201
    case_no = response.get_json()["case_no"]
    deliver_inline(migrated, settings, case_no)
    return case_no


def _written_event_types() -> set[str]:
    """Every event type the service can write: the literals given as `type=` to append_event,
    the ratings' `_event(..., "type", ...)`, every lifecycle action, every rectification step."""
    found = set()
    for path in SERVICE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "append_event(" not in source:
            continue
        for line in re.findall(r"\btype=([^\n]*)", source):  # type="claimed" if ... else "assigned"
            found |= set(re.findall(r'"([a-z_]+)"', line))
        found |= set(re.findall(r'\b_event\(\s*session,[^)]*?"([a-z_]+)"', source, re.S))
    found |= {a.value for a in Action} | {f"rectification_{step}" for step in STEPS}
    return found


def test_every_event_type_has_a_chinese_label():
    written = _written_event_types()
    # The scan above must see the service's writers, or this test would prove nothing.
    assert {"submitted", "assigned", "file_attached", "appeal_reviewed"} <= written
    missing = sorted(t for t in written if t not in EVENT_ZH)
    assert not missing, f"no Chinese label for {missing}"
    assert all(re.search(r"[\u4e00-\u9fff]", EVENT_ZH[t]) for t in written)


def test_receipt_names_the_intake_clerk_and_the_configured_limit(
    app, migrated, fumin_case, engine, monkeypatch
):
    policy = app.extensions["tongban.policy"]
    clocks = dataclasses.replace(policy.clocks, accept_limit_days=7)
    monkeypatch.setitem(
        app.extensions, "tongban.policy", dataclasses.replace(policy, clocks=clocks)
    )
    clerk = scalar(
        engine,
        "SELECT e.actor_name FROM case_events e JOIN cases c ON c.id = e.case_id"
        " WHERE c.case_no = :n AND e.type = 'submitted'",
        n=fumin_case,
    )
    # Printed again later at another window PC of the same center.
    page = (
        window_client(app, migrated)
        .get(f"/window/cases/{fumin_case}/receipt")
        .get_data(as_text=True)
    )
    assert "办理地收到后7个工作日内决定是否受理" in page
    assert f"窗口经办：{clerk}　" in page
    assert "窗口经办：网页终端" not in page


@pytest.mark.parametrize("role", ["clerk", "supervisor"])
def test_claim_is_offered_only_when_the_service_would_take_it(
    app, migrated, client, terminal, settings, role
):
    case_no = _received_case(client, terminal, migrated, settings)
    holder, _ = staff_client(app, migrated)
    assert "认领办件" in holder.get(f"/cases/{case_no}").get_data(as_text=True)
    response = holder.post(f"/cases/{case_no}/claim", data=case_form(holder, case_no))
    assert response.status_code == 303
    assert "认领办件" not in holder.get(f"/cases/{case_no}").get_data(as_text=True)  # own case
    other, _ = staff_client(app, migrated, role)
    page = other.get(f"/cases/{case_no}").get_data(as_text=True)
    response = other.post(f"/cases/{case_no}/claim", data=case_form(other, case_no))
    if role == "clerk":
        # Another clerk holds it: assign() refuses, so the page does not offer it.
        assert "认领办件" not in page
        assert response.status_code == 409 and "已被其他人员认领" in response.get_data(as_text=True)
    else:
        assert "认领办件" in page  # a supervisor may take it over
        assert response.status_code == 303


def test_a_stale_supplement_form_attaches_nothing(app, migrated, fumin_case, settings, engine):
    request_supplement(app, migrated, settings, fumin_case)
    window = window_client(app, migrated)
    read = int(case_form(window, fumin_case)["version"])
    response = post_supplement(window, fumin_case, version=str(read - 1))
    assert response.status_code == 409
    assert "办件已被他人更新" in response.get_data(as_text=True)
    assert "file_attached" not in event_types(engine, fumin_case)
    files = scalar(
        engine,
        "SELECT count(*) FROM case_files f JOIN cases c ON c.id = f.case_id WHERE c.case_no = :n",
        n=fumin_case,
    )
    assert files == 0
    # The current form goes through, scans and all.
    response = post_supplement(window, fumin_case)
    assert response.status_code == 303
    assert "file_attached" in event_types(engine, fumin_case)
