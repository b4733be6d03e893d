"""Monthly statistics against hand-computed figures, month close, tamper evidence, auditors.

The data set lives in March and April 2025 (no other test writes there). Every step runs
through the API under time-machine, and deliveries are applied in this process at the same
moments, so each step lands on the day the figures below were worked out for.
"""

import hashlib
import io
import json
import uuid
from datetime import datetime

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, text

from service.clock import SHANGHAI
from tests.helpers import (
    act,
    application,
    deliver_inline,
    make_id_number,
    new_delivered_case,
    read_case,
    statements_sent,
    submit,
)

WH, FM = "530102", "530124"


def at(month: int, day: int, hour: int = 10, minute: int = 0):
    return time_machine.travel(datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI))


@pytest.fixture(scope="module")
def dataset(app, migrated, settings):
    """Six cases from 富民's window for 五华, stepped through March and April 2025."""
    from datetime import timedelta

    from service.accounts.credentials import create_staff, create_terminal, issue_token
    from service.accounts.models import ServiceCenter

    client = app.test_client()
    with migrated.sessionmaker() as session:
        center = session.query(ServiceCenter).filter_by(code="FM-01").one()
        _terminal, key = create_terminal(session, center, "统计测试窗口")
        user = create_staff(session, "stats-clerk", "pw-not-used", "clerk", WH)
        session.commit()
    window = {"Authorization": f"Bearer {key}"}

    def clerk():  # a token issued "now", whatever now the clock says
        with migrated.sessionmaker() as session:
            token, _ = issue_token(session, session.merge(user), timedelta(hours=1))
            session.commit()
        return {"Authorization": f"Bearer {token}"}

    def new_case(month, day, hour=10, minute=0) -> str:
        with at(month, day, hour, minute):
            return new_delivered_case(client, window, migrated, settings)

    def step(month, day, who, case_no, name, **body):
        with at(month, day):
            headers = clerk() if who == "clerk" else window
            response = act(client, headers, case_no, name, **body)
            assert response.status_code == 200, (case_no, name, response.get_json())

    done = {"outcome": "approved", "document_no": "五社保〔2025〕1号"}
    a = new_case(3, 31, 23, 30)  # submitted late on the last evening of March
    step(4, 1, "clerk", a, "accept")
    step(4, 2, "clerk", a, "complete", **done)

    b = new_case(3, 10)
    step(3, 11, "clerk", b, "request-supplement", materials=[{"code": "M03", "problem": "未签字"}])
    step(3, 13, "window", b, "supplement", materials=[{"code": "M03"}])
    with at(3, 13, 11):
        deliver_inline(migrated, settings, b)
    step(3, 14, "clerk", b, "accept")
    step(3, 17, "clerk", b, "pause", procedure="testing", reason="送检")
    step(4, 10, "clerk", b, "resume")
    step(4, 14, "clerk", b, "complete", **done)

    c = new_case(3, 5)
    step(3, 6, "clerk", c, "reject", reason="不符合申领条件")

    d = new_case(3, 20)
    step(3, 21, "window", d, "withdraw", reason="申请人撤回")

    e = new_case(3, 2)
    step(3, 3, "clerk", e, "accept")
    step(3, 25, "clerk", e, "complete", **done)  # due 17 March: late
    step(3, 26, "window", e, "deliver-result", method="window")
    with at(3, 26, 11):
        rated = client.post(
            f"/api/v1/cases/{e}/rating", headers=window, json={"level": "dissatisfied"}
        )
        assert rated.status_code == 200, rated.get_json()

    f = new_case(4, 20)
    step(4, 21, "clerk", f, "accept")
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "window": window}


def report(client, headers, month, **params):
    response = client.get(
        "/api/v1/stats/monthly", headers=headers, query_string={"month": month, **params}
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


def figures(row: dict) -> dict:
    keys = ["submitted", "forwarded", "accepted", "supplements_requested", "rejected"]
    keys += ["withdrawn", "completed", "completed_on_time", "working_days_to_complete"]
    return {k: row[k] for k in [*keys, "average_working_days"]}


MARCH = {
    "submitted": 5,
    "forwarded": 5,
    "accepted": 2,
    "supplements_requested": 1,
    "rejected": 1,
    "withdrawn": 1,
    "completed": 1,
    "completed_on_time": 0,
    # e: accepted Mon 3 March, completed Tue 25 March: 16 working days after day 0
    "working_days_to_complete": 16,
    "average_working_days": 16.0,
}
APRIL = {
    "submitted": 1,
    "forwarded": 1,
    "accepted": 2,
    "supplements_requested": 0,
    "rejected": 0,
    "withdrawn": 0,
    "completed": 2,
    "completed_on_time": 2,
    # a: 1 April -> 2 April, 1 day. b: accepted Fri 14 March, completed Mon 14 April: 20
    # working days (4 April is 清明), less the 17 paused from 17 March up to the resume on
    # 10 April: 3 days. (1 + 3) / 2.
    "working_days_to_complete": 4,
    "average_working_days": 2.0,
}


def test_march_and_april_figures_match_the_hand_count(dataset, client, staff):
    auditor = staff("auditor", None)
    march = report(client, auditor, "2025-03").get_json()
    assert figures(march["totals"]) == MARCH
    [pair] = march["matrix"]
    assert (pair["accepting"], pair["responsible"]) == (FM, WH) and figures(pair) == MARCH
    assert [(i["code"], i["name"]) for i in march["items"]] == [("000112001000", "社会保障卡申领")]
    assert [c["code"] for c in march["centers"]] == ["FM-01"]
    [agreement] = march["agreements"]
    assert agreement["code"] == "KM-WH-FM-2022" and figures(agreement["month"]) == MARCH
    assert figures(agreement["since_start"]) == MARCH
    assert {r["level"]: r["count"] for r in march["ratings"]}["dissatisfied"] == 1
    assert march["rectifications"] == {
        "opened": 1,
        "closed": 0,
        "open_at_month_end": 1,
        "overdue_at_month_end": 0,
    }
    [late] = march["overdue"]
    assert late["case_no"] == dataset["e"] and late["deadline"] == "办结时限"
    assert (late["due_on"], late["finished_on"], late["working_days_overdue"]) == (
        "2025-03-17",
        "2025-03-25",
        6,
    )
    assert late["applicant"] == "张*"  # masked

    april = report(client, auditor, "2025-04").get_json()
    assert figures(april["totals"]) == APRIL
    since = april["agreements"][0]["since_start"]
    both = {k: MARCH[k] + APRIL[k] for k in MARCH}
    assert figures(since) == {**both, "average_working_days": round(20 / 3, 2)}  # 16 + 1 + 3
    assert april["overdue"] == []
    assert april["rectifications"]["overdue_at_month_end"] == 1  # due 17 April, not closed


def test_district_auditors_see_their_district_only(dataset, client, staff):
    wuhua = report(client, staff("auditor", WH), "2025-03", district="530181").get_json()
    assert wuhua["scope"] == WH and figures(wuhua["totals"]) == MARCH  # own district, not the asked
    anning = report(client, staff("auditor", "530181"), "2025-03").get_json()
    assert anning["totals"]["submitted"] == 0 and anning["matrix"] == []


def test_exports_have_chinese_headers_totals_and_a_bom(dataset, client, staff):
    auditor = staff("auditor", None)
    xlsx = report(client, auditor, "2025-03", format="xlsx")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames[:3] == ["汇总", "收件地×办理地", "事项"]
    matrix = book["收件地×办理地"]
    assert [c.value for c in matrix[1]][:3] == ["收件地", "办理地", "收件量"]
    assert matrix.freeze_panes == "A2"
    assert [c.value for c in matrix[matrix.max_row]][:3] == ["合计", None, 5]
    import zipfile

    csv = zipfile.ZipFile(io.BytesIO(report(client, auditor, "2025-03", format="csv").data))
    assert csv.read("matrix.csv").startswith("\ufeff收件地,办理地".encode())
    assert report(client, auditor, "2025-03", format="xlsx").data == xlsx.data  # stable bytes


def test_bad_months_and_scopes_are_refused(dataset, client, staff):
    auditor = staff("auditor", None)
    for month in ("2026-13", "2025-3", "2025-03\n", "2999-01"):
        response = client.get(
            "/api/v1/stats/monthly", headers=auditor, query_string={"month": month}
        )
        assert response.status_code == 422, month
    district = staff("auditor", WH)
    assert client.get("/api/v1/admin/audit/verify", headers=district).status_code == 403


def test_a_closed_month_exports_the_same_bytes_and_corrections_go_to_the_next_month(
    dataset, client, staff, migrated, settings
):
    admin, auditor = staff("admin", None), staff("auditor", None)
    assert (
        client.post("/api/v1/admin/stats/months/2025-03/close", headers=auditor).status_code == 403
    )
    closed = client.post(
        "/api/v1/admin/stats/months/2025-03/close",
        headers=admin,
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert closed.status_code == 200, closed.get_json()
    with migrated.engine.connect() as conn:
        logged = (
            conn.execute(
                text(
                    "SELECT * FROM security_events"
                    " WHERE action = 'month.close' AND target = '2025-03'"
                )
            )
            .mappings()
            .one()
        )  # once: closing again changes nothing and logs nothing
    assert (logged["actor_role"], logged["address"]) == ("admin", "203.0.113.7")
    assert logged["details"]["closed_by"] == logged["actor_name"]
    manifest = closed.get_json()["manifest"]
    assert len(manifest) == 15 * 3 + 1  # every scope's files, and the month's checkpoints
    assert "tongban-2025-03-checkpoints.json" in manifest
    first = report(client, auditor, "2025-03", format="xlsx")
    assert first.headers["X-Tongban-Month-Closed"] == "true"
    digest = hashlib.sha256(first.data).hexdigest()
    assert digest == manifest["tongban-2025-03-city.xlsx"]

    # A step that belongs to March arrives after March closed.
    with at(3, 15):
        body = application()
        body["applicant"]["id_number"] = make_id_number()
        late = submit(client, dataset["window"], body)
        assert late.status_code == 201
    again = report(client, auditor, "2025-03", format="xlsx")
    assert again.data == first.data  # byte for byte
    assert json.loads(report(client, auditor, "2025-03").data)["totals"]["submitted"] == 5
    april = report(client, auditor, "2025-04").get_json()
    assert april["adjustments"] == [
        {
            "month": "2025-03",
            "accepting": FM,
            "accepting_name": "富民县",
            "responsible": WH,
            "responsible_name": "五华区",
            "figure": "submitted",
            "delta": 1,
        }
    ]
    # The total since the agreement began holds the correction too (5 + 1 + the late one).
    assert april["agreements"][0]["since_start"]["submitted"] == 7
    months = client.get("/api/v1/stats/months", headers=auditor).get_json()
    assert months[0]["month"] == "2025-03" and months[0]["manifest"] == manifest
    not_over = client.post("/api/v1/admin/stats/months/2099-01/close", headers=admin)
    assert not_over.status_code == 409
    skipping = client.post("/api/v1/admin/stats/months/2025-05/close", headers=admin)
    assert skipping.status_code == 409 and "2025-04" in skipping.get_json()["detail"]


def test_an_edited_event_is_detected_and_named(dataset, client, staff, engine):
    auditor = staff("auditor", None)
    ok = client.get("/api/v1/admin/audit/verify", headers=auditor).get_json()
    assert ok["ok"] is True and ok["events_checked"] > 20
    with engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE case_events SET reason = 'x'"))
    tamper = (
        "UPDATE case_events SET reason = :r WHERE seq = 2 AND case_id ="
        " (SELECT id FROM cases WHERE case_no = :n)"
    )
    original = None
    with engine.begin() as conn:  # what a database superuser could still do
        original = conn.execute(
            text(
                "SELECT reason FROM case_events WHERE seq = 2 AND case_id ="
                " (SELECT id FROM cases WHERE case_no = :n)"
            ),
            {"n": dataset["c"]},
        ).scalar_one()
        conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
        conn.execute(text(tamper), {"r": "改过的理由", "n": dataset["c"]})
        conn.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))
    try:
        broken = client.get("/api/v1/admin/audit/verify", headers=auditor).get_json()
        assert broken["ok"] is False
        assert broken["first_broken"]["case_no"] == dataset["c"]
        assert broken["first_broken"]["seq"] == 2
        assert "hash" in broken["first_broken"]["reason"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
            conn.execute(text(tamper), {"r": original, "n": dataset["c"]})
            conn.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))
    assert client.get("/api/v1/admin/audit/verify", headers=auditor).get_json()["ok"] is True


def test_an_edit_relinked_without_the_chain_key_is_still_named(dataset, client, staff, engine):
    """A database superuser edits an event and recomputes every link after it the only way
    possible without the key (plain SHA-256, as the chain was before it was keyed): verify
    still names the edited event."""
    from service.audit.chain import GENESIS, plain_link
    from service.cases.verify import COLUMNS

    auditor = staff("auditor", None)
    select_events = (
        f"SELECT {', '.join(COLUMNS)} FROM case_events WHERE case_id ="
        " (SELECT id FROM cases WHERE case_no = :n) ORDER BY seq"
    )
    with engine.connect() as conn:
        kept = [dict(r._mapping) for r in conn.execute(text(select_events), {"n": dataset["c"]})]
    assert len(kept) >= 3
    relinked, prev = [], GENESIS
    for event in kept:
        if event["seq"] < 2:  # the events before the edit stay as they are
            relinked.append(dict(event))
        else:
            edited = {**event, "reason": "改过的理由"} if event["seq"] == 2 else dict(event)
            edited["prev_hash"], edited["hash"] = prev, plain_link(prev, edited)
            relinked.append(edited)
        prev = relinked[-1]["hash"]
    rewrite = (
        "UPDATE case_events SET reason = :reason, prev_hash = :prev_hash, hash = :hash"
        " WHERE id = :id"
    )

    def write(events):
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
            for event in events:
                conn.execute(
                    text(rewrite), {k: event[k] for k in ("reason", "prev_hash", "hash", "id")}
                )
            conn.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))

    write(relinked)
    try:
        broken = client.get("/api/v1/admin/audit/verify", headers=auditor).get_json()
        assert broken["ok"] is False
        named = broken["first_broken"]
        assert (named["case_no"], named["seq"], named["reason"]) == (
            dataset["c"],
            2,
            "its content does not match its hash",
        )
    finally:
        write(kept)
    assert client.get("/api/v1/admin/audit/verify", headers=auditor).get_json()["ok"] is True


def test_a_timeline_cut_at_its_end_or_missing_is_detected(dataset, engine):
    from sqlalchemy.orm import Session

    from service.cases.verify import verify_timelines

    last_of = (
        "DELETE FROM case_events WHERE id = (SELECT max(e.id) FROM case_events e"
        " JOIN cases c ON c.id = e.case_id WHERE c.case_no = :n)"
    )
    every_of = "DELETE FROM case_events WHERE case_id = (SELECT id FROM cases WHERE case_no = :n)"
    for cut, case_no, why in ((last_of, dataset["c"], "missing"), (every_of, None, "no timeline")):
        # What a database superuser could do, inside a transaction that is rolled back.
        with engine.connect() as conn, conn.begin() as tx:
            conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
            if case_no is None:  # a case of its own, so no other chain is touched first
                case_no = conn.execute(text("SELECT min(case_no) FROM cases")).scalar_one()
            conn.execute(text(cut), {"n": case_no})
            found = verify_timelines(Session(bind=conn))
            tx.rollback()
        assert found["ok"] is False, found
        assert (
            found["first_broken"]["case_no"] == case_no and why in found["first_broken"]["reason"]
        )


def test_an_auditor_cannot_change_anything(dataset, client, staff, engine):
    auditor = staff("auditor", None)

    def state():
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT count(*), sum(version) FROM cases"
                    " UNION ALL SELECT count(*), 0 FROM case_events"
                    " UNION ALL SELECT count(*), 0 FROM stat_months"
                    " UNION ALL SELECT count(*), 0 FROM ratings"
                    " UNION ALL SELECT count(*), count(endpoint) FROM district_connectors"
                )
            ).all()

    def version(case_no):
        return read_case(client, auditor, case_no)["version"]  # an auditor may read

    before = state()
    f, e = dataset["f"], dataset["e"]
    attempts = {
        "apply": client.post(
            "/api/v1/applications",
            headers={**auditor, "Idempotency-Key": "auditor-try"},
            json=application(),
        ),
        "complete": client.post(
            f"/api/v1/cases/{f}/complete",
            headers=auditor,
            json={"version": version(f), "outcome": "approved", "document_no": "审计1号"},
        ),
        "claim": client.post(
            f"/api/v1/cases/{f}/claim", headers=auditor, json={"version": version(f)}
        ),
        "close month": client.post("/api/v1/admin/stats/months/2025-04/close", headers=auditor),
        "replay": client.post("/api/v1/admin/dead-letters/replay", headers=auditor),
        "connector": client.put(
            "/api/v1/admin/districts/530181/connector",
            headers=auditor,
            json={"kind": "http", "endpoint": "https://x.example/d", "secret": "s" * 32},
        ),
        "rating": client.post(
            f"/api/v1/cases/{e}/rating", headers=auditor, json={"level": "satisfied"}
        ),
    }
    # Refused for who they are, not for a stale version or a step out of order.
    answers = {
        what: (r.status_code, (r.get_json() or {}).get("type", "")) for what, r in attempts.items()
    }
    refusals = {(403, "forbidden"), (409, "not-your-step")}
    assert all(
        (status, type_.rsplit("/", 1)[-1]) in refusals for status, type_ in answers.values()
    ), answers
    assert state() == before


def test_cli_writes_a_month_and_verifies(app, dataset, tmp_path):
    runner, context = app.test_cli_runner(), app.app_context()
    context.push()
    out = tmp_path / "march.xlsx"
    written = runner.invoke(
        args=["stats-monthly", "--month", "2025-03", "--format", "xlsx", str(out)]
    )
    assert written.exit_code == 0 and out.stat().st_size > 1000, written.output
    verified = runner.invoke(args=["verify-timeline"])
    assert verified.exit_code == 0 and '"ok": true' in verified.output
    closed = runner.invoke(args=["close-month", "--month", "2025-04"])
    assert closed.exit_code == 0 and "closed: 2025-04" in closed.output, closed.output
    out_of_order = runner.invoke(args=["close-month", "--month", "2025-06"])
    assert out_of_order.exit_code == 1 and "close 2025-05 first" in out_of_order.output
    frozen = runner.invoke(args=["stats-monthly", "--month", "2025-04", str(out)])
    assert frozen.exit_code == 0 and "closed, frozen" in frozen.output
    context.pop()


def test_april_since_start_reads_only_the_closed_months_agreements(dataset, db, app):
    """After March closed (test above), April's totals since the agreement began add March's
    frozen figures, picked out of the closed reports in SQL rather than loading them whole."""
    from service.clocks.store import load_calendar
    from service.stats.report import monthly_report

    engine = db.get_bind()
    with statements_sent(engine) as statements:
        april = monthly_report(db, load_calendar(db), "2025-04", None)
    # March's frozen figures, April's, and the late March intake recorded after March closed.
    since = april["agreements"][0]["since_start"]
    both = {k: MARCH[k] + APRIL[k] for k in MARCH}
    assert figures(since) == {**both, "submitted": 7, "average_working_days": round(20 / 3, 2)}
    assert not any("stat_months.manifest" in s for s in statements)


def _case_in_may(app, dataset, day: int) -> None:
    with at(5, day):
        body = application()
        body["applicant"]["id_number"] = make_id_number()
        response = submit(app.test_client(), dataset["window"], body)
        assert response.status_code == 201, response.get_json()


@pytest.fixture
def kept_rows(db):
    """The stat_partials table, emptied after the test."""
    from sqlalchemy import delete

    from service.stats.models import StatPartial

    yield StatPartial
    db.rollback()
    db.execute(delete(StatPartial))
    db.commit()


def _kept(db, model, month: str):
    """The kept rows of `month` as stored now (not as this session last saw them)."""
    return db.get(model, month, populate_existing=True)


def test_a_month_counted_up_to_a_watermark_gives_the_report_the_timeline_gives(
    dataset, db, app, kept_rows
):
    """May 2025 counted and kept as beat does, then a step after the watermark: the report from
    the kept rows and the later events is the one the timeline gives, for the city and each
    district. And it is what an open month's report reads: a kept row changed by hand shows,
    until a change to the calendar, or to the counting query, makes the kept rows unusable."""
    from sqlalchemy import delete, update

    from service.clocks.models import CalendarDay
    from service.clocks.store import load_calendar
    from service.stats.closing import live_report
    from service.stats.partial import kept_base, refresh, watermark
    from service.stats.report import monthly_report

    _case_in_may(app, dataset, 5)
    refresh(db, "2025-05", watermark(db))
    partial = _kept(db, kept_rows, "2025-05")
    kept_submitted = sum(row["submitted"] for row in partial.rows)
    assert kept_submitted >= 1
    _case_in_may(app, dataset, 6)  # after the watermark
    calendar = load_calendar(db)
    for scope in (None, WH, FM, "530112"):
        kept = kept_base(db, "2025-05", scope)
        assert kept is not None
        from_kept = monthly_report(db, calendar, "2025-05", scope, kept)
        assert from_kept == monthly_report(db, calendar, "2025-05", scope)
    assert from_kept["totals"]["submitted"] == 0  # 西山: neither side of any of them
    honest = live_report(db, "2025-05", "city")["totals"]["submitted"]
    assert honest == kept_submitted + 1
    db.rollback()

    changed = [{**partial.rows[0], "submitted": partial.rows[0]["submitted"] + 1000}]
    db.execute(update(kept_rows).values(rows=changed + partial.rows[1:]))
    db.commit()
    assert live_report(db, "2025-05", "city")["totals"]["submitted"] == honest + 1000
    db.rollback()
    # Rows counted by another version of the counting query are not added to this one's.
    db.execute(update(kept_rows).values(counted_as="0" * 64))
    db.commit()
    assert kept_base(db, "2025-05", None) is None
    assert live_report(db, "2025-05", "city")["totals"]["submitted"] == honest
    db.rollback()
    db.execute(update(kept_rows).values(counted_as=partial.counted_as))
    # Any write to the calendar's tables, even one that changes no row, is a new revision.
    db.execute(delete(CalendarDay).where(CalendarDay.year == 2031))
    db.commit()
    assert kept_base(db, "2025-05", None) is None
    assert live_report(db, "2025-05", "city")["totals"]["submitted"] == honest


def test_beat_keeps_every_open_month_and_drops_closed_ones(dataset, db, kept_rows):
    """March and April 2025 are closed by the tests above."""
    from datetime import date

    from sqlalchemy import insert, select

    from service.cases.models import CaseEvent
    from service.clock import local_today, now_utc
    from service.stats.partial import open_months, refresh_open_months

    assert open_months(db, today=date(2025, 6, 15)) == ["2025-05", "2025-06"]
    db.execute(
        insert(kept_rows).values(
            month="2025-03",
            watermark=0,
            calendar_revision=uuid.uuid4(),
            counted_as="",
            rows=[],
            made_at=now_utc(),
        )
    )
    db.commit()
    kept = refresh_open_months(db)
    newest = db.scalar(select(func.max(CaseEvent.id)))
    assert kept["2025-05"] == newest and f"{local_today():%Y-%m}" in kept
    assert "2025-04" not in kept
    assert _kept(db, kept_rows, "2025-03") is None
    assert _kept(db, kept_rows, "2025-05").watermark == newest


def test_a_timeline_too_busy_to_count_leaves_the_kept_rows_as_they_were(
    dataset, db, app, migrated, monkeypatch, kept_rows
):
    """A step holding the timeline longer than the lock may be waited for: the round is skipped
    and the rows kept before stay, though a step was recorded since."""
    from sqlalchemy import text

    from service.stats import partial

    monkeypatch.setattr(partial, "LOCK_PAUSE_SECONDS", 0.1)
    before = partial.refresh_open_months(db)["2025-05"]
    _case_in_may(app, dataset, 7)
    with migrated.sessionmaker() as writer:
        writer.execute(text("LOCK TABLE case_events IN ROW EXCLUSIVE MODE"))  # a step in flight
        assert partial.refresh_open_months(db) is None
        writer.rollback()
    assert _kept(db, kept_rows, "2025-05").watermark == before
    assert partial.refresh_open_months(db)["2025-05"] > before  # and the next round counts it
