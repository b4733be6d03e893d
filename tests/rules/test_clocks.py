"""Deadlines, pauses, supervision and ratings on real PostgreSQL, each test in a transaction
rolled back at the end; the forwarding a worker would do is applied in this process.

Steps taken "on" a given day run under time-machine; receipts (`received`) keep real time, as
they did when a worker process applied them.
"""

import io
from datetime import date, datetime

import time_machine
from sqlalchemy import text

from service.clock import SHANGHAI
from service.clocks.supervision import supervise
from service.outbox.policy import ClockRules
from tests.helpers import act, application, read_case, status_of, submit

CALENDAR_2027 = "日期,类型,名称\n2027-01-01,放假,元旦\n2027-02-07,上班,春节调休\n"


def on(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI))


def received(client, deliver, window) -> str:
    case_no = submit(client, window, application()).get_json()["case_no"]
    deliver(case_no)
    return case_no


def clocks(client, headers, case_no) -> dict[str, dict]:
    return {d["kind"]: d for d in read_case(client, headers, case_no)["deadlines"]}


def notifications(engine, case_no) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT n.kind, n.role FROM notifications n JOIN cases c ON c.id = n.case_id"
                " WHERE c.case_no = :no AND n.event_seq IS NULL ORDER BY n.id"
            ),
            {"no": case_no},
        ).all()


def test_every_case_runs_against_its_deadlines(deliver, client, terminal, staff, engine):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    case_no = received(client, deliver, window)
    d = clocks(client, window, case_no)
    assert d["forward"]["state"] == "met" and d["forward"]["on_time"] is True
    assert d["accept"]["state"] == "open" and d["accept"]["limit_days"] == 5
    assert d["accept"]["working_days_left"] == 5 and d["accept"]["kind_zh"] == "受理时限"
    assert act(client, clerk, case_no, "accept").status_code == 200
    d = clocks(client, clerk, case_no)
    assert d["accept"]["state"] == "met"
    assert d["complete"]["limit_days"] == 10 and d["complete"]["working_days_left"] == 10
    queue = client.get("/api/v1/queue", headers=clerk, query_string={"due": "on_time"})
    entry = next(c for c in queue.get_json()["cases"] if c["case_no"] == case_no)
    assert entry["due"]["kind"] == "complete" and entry["due"]["due_state_zh"] == "正常"


def test_supplement_time_falls_before_acceptance(deliver, client, terminal, staff, engine):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    case_no = received(client, deliver, window)
    asked = act(
        client, clerk, case_no, "request-supplement", materials=[{"code": "M01", "problem": "模糊"}]
    )
    assert asked.status_code == 200
    d = clocks(client, window, case_no)
    assert d["accept"]["state"] == "met" and "complete" not in d  # the clock waits on the citizen
    assert (
        act(client, window, case_no, "supplement", materials=[{"code": "M01"}]).status_code == 200
    )
    assert status_of(engine, case_no) == "supplemented"
    deliver(case_no)  # the supplement, to the responsible district
    d = clocks(client, clerk, case_no)
    # A new receipt: the responsible district has its whole acceptance limit again.
    assert d["accept"]["state"] == "open" and d["accept"]["working_days_left"] == 5
    assert "complete" not in d
    assert act(client, clerk, case_no, "accept").status_code == 200
    d = clocks(client, clerk, case_no)
    assert d["complete"]["state"] == "open" and d["complete"]["working_days_left"] == 10


def test_late_december_acceptance_is_provisional_until_2027_is_imported(
    deliver, client, terminal, staff, engine
):
    window = terminal("FM-01")
    case_no = received(client, deliver, window)
    with on(date(2026, 12, 28)):
        assert act(client, staff("clerk", "530102"), case_no, "accept").status_code == 200
    complete = clocks(client, window, case_no)["complete"]
    # 1 January 2027 counted as a working Friday: no official 2027 data yet.
    assert (complete["due_on"], complete["provisional"]) == ("2027-01-11", True)

    admin = staff("admin", None)
    imported = client.put(
        "/api/v1/admin/calendar/years/2027",
        headers=admin,
        data={"file": (io.BytesIO(CALENDAR_2027.encode()), "2027年节假日.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 200, imported.get_json()
    assert imported.get_json()["recomputed"] >= 1
    complete = clocks(client, window, case_no)["complete"]
    assert (complete["due_on"], complete["provisional"]) == ("2027-01-12", False)
    years = client.get("/api/v1/calendar/years", headers=admin).get_json()
    assert {"year": 2027, "source": "2027年节假日.csv"}.items() <= years[-1].items()


def test_a_year_is_imported_from_the_command_line(app, client, staff, tmp_path):
    path = tmp_path / "2029年节假日.csv"
    path.write_text("日期,类型,名称\n2029-01-01,放假,元旦\n2029-02-10,上班,春节调休\n")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["import-calendar", "--year", "2029", str(path)])
    assert result.exit_code == 0 and "1 holidays, 1 make-up workdays" in result.output
    years = client.get("/api/v1/calendar/years", headers=staff("admin", None)).get_json()
    assert {"year": 2029, "source": "2029年节假日.csv"}.items() <= years[-1].items()
    bad = tmp_path / "bad.csv"
    bad.write_text("日期,类型\n2029-13-01,放假\n")
    with app.app_context():
        refused = app.test_cli_runner().invoke(args=["import-calendar", "--year", "2029", str(bad)])
    assert refused.exit_code == 1 and "nothing was changed" in refused.output


def test_a_bad_calendar_file_changes_nothing_and_says_where(client, staff):
    admin = staff("admin", None)
    bad = "日期,类型\n2028-01-01,放假\n2028-01-01,放假\n2028-01-05,上班\n2027-13-01,休息\n"
    response = client.put(
        "/api/v1/admin/calendar/years/2028",
        headers=admin,
        data={"file": (io.BytesIO(bad.encode()), "2028.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    rows = {(r["row"], r["column"]) for r in response.get_json()["rows"]}
    assert rows == {(3, "日期"), (4, "类型"), (5, "日期"), (5, "类型")}
    years = [y["year"] for y in client.get("/api/v1/calendar/years", headers=admin).get_json()]
    assert 2028 not in years
    clerk = staff("clerk", "530102")
    forbidden = client.put(
        "/api/v1/admin/calendar/years/2028",
        headers=clerk,
        data={"file": (io.BytesIO(b""), "x.csv")},
        content_type="multipart/form-data",
    )
    assert forbidden.status_code == 403


def test_a_special_procedure_pauses_and_resumes_the_clock(deliver, client, terminal, staff, engine):
    window = terminal("FM-01")
    case_no = received(client, deliver, window)
    with on(date(2026, 11, 25)):
        clerk = staff("clerk", "530102")
        assert act(client, clerk, case_no, "accept").status_code == 200
        before = clocks(client, clerk, case_no)["complete"]["due_on"]
        assert before == "2026-12-09"
        fumin = staff("clerk", "530124")
        refused = act(client, fumin, case_no, "pause", procedure="hearing", reason="听证")
        assert refused.status_code == 409  # the accepting side has no clock to pause
        assert (
            act(client, window, case_no, "pause", procedure="hearing", reason="x").status_code
            == 403
        )
        paused = act(client, clerk, case_no, "pause", procedure="expert_review", reason="专家评审")
        assert paused.status_code == 200, paused.get_json()
        again = act(client, clerk, case_no, "pause", procedure="hearing", reason="听证")
        assert again.status_code == 409
        assert clocks(client, clerk, case_no)["complete"]["due_state"] == "paused"
    with on(date(2026, 12, 2)):
        clerk = staff("clerk", "530102")
        resumed = act(client, clerk, case_no, "resume", note="评审意见已出")
        assert resumed.status_code == 200, resumed.get_json()
        complete = clocks(client, clerk, case_no)["complete"]
        # Paused on the day of acceptance (day 0, which never counted): Thu 26 Nov to Tue 1 Dec.
        assert complete["paused_days"] == 4
        assert complete["due_on"] == "2026-12-15"
        assert act(client, clerk, case_no, "resume").status_code == 422
    events = [e["type"] for e in read_case(client, window, case_no)["timeline"]]
    assert events[-2:] == ["clock_paused", "clock_resumed"]


def test_completing_during_a_procedure_ends_the_pause_and_counts_it(
    deliver, client, terminal, staff, engine
):
    window = terminal("FM-01")
    case_no = received(client, deliver, window)
    with on(date(2026, 11, 23)):
        clerk = staff("clerk", "530102")
        assert act(client, clerk, case_no, "accept").status_code == 200
        paused = act(client, clerk, case_no, "pause", procedure="testing", reason="送检")
        assert paused.status_code == 200
    with on(date(2026, 12, 9)):  # the original due day passed during testing
        clerk = staff("clerk", "530102")
        done = act(client, clerk, case_no, "complete", outcome="approved", document_no="检1号")
        assert done.status_code == 200, done.get_json()
    complete = clocks(client, window, case_no)["complete"]
    assert complete["state"] == "met" and complete["on_time"] is True
    assert complete["paused_days"] == 11  # Tue 24 Nov to Tue 8 Dec; day 0 is not given back


def test_supervision_warns_once_then_escalates_once(
    deliver, client, terminal, staff, engine, rolled_back
):
    window = terminal("FM-01")
    case_no = received(client, deliver, window)
    with on(date(2026, 11, 25)):
        assert act(client, staff("clerk", "530102"), case_no, "accept").status_code == 200
    rules = ClockRules()
    with rolled_back.sessionmaker() as session:
        first = supervise(session, rules, today=date(2026, 12, 8))  # due Wednesday 9 December
        second = supervise(session, rules, today=date(2026, 12, 8))
    assert first.get("due_soon", 0) >= 1 and second == {}
    assert notifications(engine, case_no) == [("due_soon", None)]
    with rolled_back.sessionmaker() as session:
        late = supervise(session, rules, today=date(2026, 12, 10))
        again = supervise(session, rules, today=date(2026, 12, 10))
    assert late.get("overdue", 0) >= 1 and again == {}
    assert notifications(engine, case_no) == [
        ("due_soon", None),
        ("overdue", None),
        ("escalated", "supervisor"),
    ]
    with on(date(2026, 12, 10)):
        clerk, supervisor = staff("clerk", "530102"), staff("supervisor", "530102")
        queue = client.get("/api/v1/queue", headers=clerk, query_string={"due": "overdue"})
        entry = next(c for c in queue.get_json()["cases"] if c["case_no"] == case_no)
        assert entry["due"]["working_days_left"] == -1
        kinds = lambda who: [  # noqa: E731
            n["kind"]
            for n in client.get("/api/v1/notifications", headers=who).get_json()["notifications"]
            if n["case_no"] == case_no
        ]
        assert "escalated" not in kinds(clerk) and "overdue" in kinds(clerk)
        assert "escalated" in kinds(supervisor)


def done_case(client, deliver, window, clerk) -> str:
    case_no = received(client, deliver, window)
    assert act(client, clerk, case_no, "accept").status_code == 200
    finished = act(
        client, clerk, case_no, "complete", outcome="approved", document_no="五社〔2026〕1号"
    )
    assert finished.status_code == 200
    assert act(client, window, case_no, "deliver-result", method="window").status_code == 200
    return case_no


def rate(client, who, case_no, level, comment="办理太慢"):
    return client.post(
        f"/api/v1/cases/{case_no}/rating", headers=who, json={"level": level, "comment": comment}
    )


def rectify(client, who, rectification_id, step, **body):
    return client.post(f"/api/v1/rectifications/{rectification_id}/{step}", headers=who, json=body)


def test_a_bad_rating_opens_a_rectification_that_is_called_back_and_closed(
    deliver, client, terminal, staff, engine
):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    fresh = submit(client, window, application()).get_json()["case_no"]
    assert rate(client, window, fresh, "satisfied").status_code == 409  # not done yet
    case_no = done_case(client, deliver, window, clerk)
    assert rate(client, clerk, case_no, "satisfied").status_code == 403  # not the window
    rated = rate(client, window, case_no, "very_dissatisfied")
    assert rated.status_code == 200, rated.get_json()
    shown = rated.get_json()
    assert shown["rating"]["level_zh"] == "非常不满意"
    assert shown["rating"]["rectification"]["status"] == "open"
    rectify_clock = next(d for d in shown["deadlines"] if d["kind"] == "rectify")
    assert rectify_clock["limit_days"] == 15 and rectify_clock["state"] == "open"
    assert rate(client, window, case_no, "satisfied").status_code == 409  # once per case
    other_window = terminal("FM-YD")  # same district, another center
    assert rate(client, other_window, fresh, "satisfied").status_code == 409

    listed = client.get("/api/v1/rectifications?status=open", headers=clerk).get_json()
    entry = next(r for r in listed["rectifications"] if r["case_no"] == case_no)
    assert entry["level"] == "very_dissatisfied" and entry["status_zh"] == "待回访"
    rid = entry["id"]
    assert rectify(client, clerk, rid, "close", text="已整改").status_code == 409  # call first
    assert rectify(client, window, rid, "callback", text="x").status_code == 403
    called = rectify(client, clerk, rid, "callback", text="已电话回访申请人，解释办理进度")
    assert called.status_code == 200 and called.get_json()["status"] == "called_back"
    closed = rectify(client, clerk, rid, "close", text="优化了社保卡制卡流程，缩短至5个工作日")
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    after = read_case(client, window, case_no)
    assert next(d for d in after["deadlines"] if d["kind"] == "rectify")["state"] == "met"
    assert [e["type"] for e in after["timeline"]][-3:] == [
        "rated",
        "rectification_callback",
        "rectification_close",
    ]


def test_an_appeal_against_a_mistaken_rating_is_reviewed_by_the_accepting_supervisor(
    deliver, client, terminal, staff, engine
):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    case_no = done_case(client, deliver, window, clerk)
    assert rate(client, window, case_no, "dissatisfied", "误点了不满意").status_code == 200
    rid = read_case(client, window, case_no)["rating"]["rectification"]["id"]
    appealed = rectify(client, clerk, rid, "appeal", text="申请人表示误操作，已有通话录音")
    assert appealed.status_code == 200 and appealed.get_json()["status"] == "appealed"
    review = {"decision": "upheld", "note": "核实为误评"}
    own_supervisor = staff("supervisor", "530102")
    assert rectify(client, own_supervisor, rid, "review", **review).status_code == 409
    assert rectify(client, own_supervisor, 10**20, "review", **review).status_code == 404
    upheld = rectify(client, staff("supervisor", "530124"), rid, "review", **review)
    assert upheld.status_code == 200 and upheld.get_json()["status"] == "voided"
    after = read_case(client, window, case_no)
    assert after["rating"]["voided"] is True
    assert next(d for d in after["deadlines"] if d["kind"] == "rectify")["state"] == "cancelled"


def test_a_dismissed_appeal_cannot_be_made_again(deliver, client, terminal, staff, engine):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    case_no = done_case(client, deliver, window, clerk)
    assert rate(client, window, case_no, "very_dissatisfied").status_code == 200
    rid = read_case(client, window, case_no)["rating"]["rectification"]["id"]
    assert rectify(client, clerk, rid, "appeal", text="误评").status_code == 200
    dismissed = rectify(
        client, staff("supervisor", "530124"), rid, "review", decision="dismissed", note="评价属实"
    )
    assert dismissed.status_code == 200 and dismissed.get_json()["status"] == "open"
    assert rectify(client, clerk, rid, "appeal", text="再次申诉").status_code == 409
