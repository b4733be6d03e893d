"""The monthly report, computed from the timeline exactly as docs/statistics.md defines it.

A case step counts in the month (Asia/Shanghai) of its timeline event: intake in the month of
`submitted`, acceptance of `accept`, and so on, so a case that crosses a month end counts in both
months, once for each step. Completion is on time when its local date is no later than the
completion deadline, which already includes the working days a special procedure paused it.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, and_, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from catalog.districts import DISTRICT_NAMES
from catalog.models import Agreement
from service.accounts.models import ServiceCenter
from service.cases.lifecycle import STATUS_ZH, Status
from service.cases.models import Case, CaseEvent
from service.cases.personal import mask_name
from service.clock import SHANGHAI
from service.clocks.calendar import WorkCalendar
from service.clocks.deadlines import KIND_ZH, Kind
from service.clocks.models import Deadline
from service.ratings.levels import LEVELS
from service.ratings.models import Rating, Rectification

# figure -> the timeline event type that counts it
MEASURES: dict[str, str] = {
    "submitted": "submitted",
    "accepted": "accept",
    "supplements_requested": "request_supplement",
    "rejected": "reject",
    "withdrawn": "withdraw",
    "completed": "complete",
}
MEASURES_ZH: dict[str, str] = {
    "submitted": "收件量",
    "accepted": "受理量",
    "supplements_requested": "补正告知",
    "rejected": "不予受理",
    "withdrawn": "撤回",
    "completed": "办结量",
    "completed_on_time": "按时办结",
}
FIGURES = [*MEASURES, "completed_on_time"]


def month_bounds(month: str) -> tuple[datetime, datetime, date, date]:
    """[start, end) in UTC-aware datetimes, and the first and last local days, of YYYY-MM."""
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = datetime.combine(first, time(), tzinfo=SHANGHAI)
    end = datetime.combine(following, time(), tzinfo=SHANGHAI)
    return start, end, first, following - timedelta(days=1)


def _local_day(column):
    return cast(func.timezone("Asia/Shanghai", column), Date)


def _in_scope(scope: str | None):
    if scope is None:
        return literal(True)
    return or_(Case.accepting_district == scope, Case.responsible_district == scope)


def _counts(session: Session, start, end, scope, *group) -> list:
    """The figures, grouped by `group`, for the steps that happened in [start, end)."""
    complete = and_(
        CaseEvent.type == "complete", Deadline.due_on >= _local_day(CaseEvent.occurred_at)
    )
    columns = [
        func.count().filter(CaseEvent.type == event).label(name) for name, event in MEASURES.items()
    ]
    columns.append(func.count().filter(complete).label("completed_on_time"))
    stmt = (
        select(*group, *columns)
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(Deadline, and_(Deadline.case_id == Case.id, Deadline.kind == Kind.COMPLETE))
        .where(
            CaseEvent.occurred_at >= start,
            CaseEvent.occurred_at < end,
            CaseEvent.type.in_(list(MEASURES.values())),
            _in_scope(scope),
        )
    )
    if group:
        stmt = stmt.group_by(*group).order_by(*group)
    return session.execute(stmt).all()


def _figures(row) -> dict[str, int]:
    values = {name: getattr(row, name) or 0 for name in FIGURES}
    done = values["completed"]
    values["on_time_rate"] = round(values["completed_on_time"] / done, 4) if done else None
    return values


def _matrix(session, start, end, scope) -> list[dict]:
    rows = _counts(session, start, end, scope, Case.accepting_district, Case.responsible_district)
    return [
        {
            "accepting": r.accepting_district,
            "accepting_name": DISTRICT_NAMES.get(r.accepting_district),
            "responsible": r.responsible_district,
            "responsible_name": DISTRICT_NAMES.get(r.responsible_district),
            **_figures(r),
        }
        for r in rows
    ]


def _items(session, start, end, scope) -> list[dict]:
    rows = _counts(session, start, end, scope, Case.item_code, Case.item_name)
    return [{"code": r.item_code, "name": r.item_name, **_figures(r)} for r in rows]


def _centers(session, start, end, scope) -> list[dict]:
    rows = _counts(session, start, end, scope, Case.accepting_center_id)
    centers = {c.id: c for c in session.scalars(select(ServiceCenter))}
    out = [
        {
            "code": centers[r.accepting_center_id].code,
            "name": centers[r.accepting_center_id].name,
            "district": centers[r.accepting_center_id].district_code,
            **_figures(r),
        }
        for r in rows
    ]
    return sorted(out, key=lambda c: c["code"])


def _agreements(session, start, end, scope) -> list[dict]:
    out = []
    this_month = {r.agreement_id: r for r in _counts(session, start, end, scope, Case.agreement_id)}
    for agreement in session.scalars(select(Agreement).order_by(Agreement.code)):
        month = this_month.get(agreement.id)
        began = datetime.combine(agreement.effective_from, time(), tzinfo=SHANGHAI)
        total = _counts(session, began, end, scope, Case.agreement_id)
        total = next((r for r in total if r.agreement_id == agreement.id), None)
        if month is None and total is None:
            continue
        out.append(
            {
                "code": agreement.code,
                "name": agreement.name,
                "since": agreement.effective_from.isoformat(),
                "month": _figures(month) if month else dict.fromkeys(FIGURES, 0),
                "since_start": _figures(total) if total else dict.fromkeys(FIGURES, 0),
            }
        )
    return out


def _ratings(session, start, end, scope) -> list[dict]:
    counts = dict(
        session.execute(
            select(Rating.level, func.count())
            .join(Case, Case.id == Rating.case_id)
            .where(
                Rating.recorded_at >= start,
                Rating.recorded_at < end,
                Rating.voided.is_(False),
                _in_scope(scope),
            )
            .group_by(Rating.level)
        ).all()
    )
    return [{"level": k, "level_zh": v, "count": counts.get(k, 0)} for k, v in LEVELS.items()]


def _rectifications(session, start, end, last_day, scope) -> dict[str, int]:
    base = (
        select(func.count())
        .select_from(Rectification)
        .join(Case, Case.id == Rectification.case_id)
        .where(_in_scope(scope))
    )
    open_at_end = and_(
        Rectification.opened_at < end,
        Rectification.status != "voided",
        or_(Rectification.closed_at.is_(None), Rectification.closed_at >= end),
    )
    overdue = base.join(
        Deadline, and_(Deadline.case_id == Case.id, Deadline.kind == Kind.RECTIFY)
    ).where(open_at_end, Deadline.due_on < last_day)
    return {
        "opened": session.scalar(
            base.where(Rectification.opened_at >= start, Rectification.opened_at < end)
        ),
        "closed": session.scalar(
            base.where(Rectification.closed_at >= start, Rectification.closed_at < end)
        ),
        "open_at_month_end": session.scalar(base.where(open_at_end)),
        "overdue_at_month_end": session.scalar(overdue),
    }


def _overdue(session, calendar: WorkCalendar, end, last_day, scope) -> list[dict]:
    """Acceptance and completion deadlines overdue at the month's end, or met late in it.

    Overdue starts the day after the due day, so at the end of the last day a deadline due
    before that day and not met by then is overdue.
    """
    month_start = datetime.combine(last_day.replace(day=1), time(), tzinfo=SHANGHAI)
    late_in_month = and_(
        Deadline.state == "met",
        _local_day(Deadline.met_at) > Deadline.due_on,
        Deadline.met_at >= month_start,
        Deadline.met_at < end,
    )
    still_open = and_(
        Deadline.due_on < last_day,
        Deadline.state != "cancelled",
        Deadline.paused_since.is_(None),  # a special procedure stops the clock
        or_(Deadline.met_at.is_(None), Deadline.met_at >= end),
    )
    rows = session.execute(
        select(Deadline, Case)
        .join(Case, Case.id == Deadline.case_id)
        .where(
            Deadline.kind.in_([Kind.ACCEPT, Kind.COMPLETE]),
            Case.created_at < end,
            _in_scope(scope),
            or_(late_in_month, still_open),
        )
        .order_by(Case.case_no, Deadline.kind)
    ).all()
    out = []
    for deadline, case in rows:
        met_by_end = deadline.met_at is not None and deadline.met_at < end
        finished = deadline.met_at.astimezone(SHANGHAI).date() if met_by_end else None
        until = finished or last_day
        out.append(
            {
                "case_no": case.case_no,
                "item": case.item_name,
                "accepting": DISTRICT_NAMES.get(case.accepting_district),
                "responsible": DISTRICT_NAMES.get(case.responsible_district),
                "applicant": mask_name(case.applicant_name),
                "deadline": KIND_ZH[Kind(deadline.kind)],
                "due_on": deadline.due_on.isoformat(),
                "finished_on": finished.isoformat() if finished else None,
                "working_days_overdue": calendar.count(deadline.due_on, until).working_days,
                "status_zh": STATUS_ZH[Status(case.status)],
            }
        )
    return out


def monthly_report(
    session: Session, calendar: WorkCalendar, month: str, scope: str | None
) -> dict[str, Any]:
    """Every view of the month for the city (scope None) or one district's cases."""
    start, end, _first, last_day = month_bounds(month)
    totals = _counts(session, start, end, scope)[0]
    return {
        "month": month,
        "scope": scope or "city",
        "scope_name": DISTRICT_NAMES.get(scope, "昆明市") if scope else "昆明市",
        "totals": _figures(totals),
        "matrix": _matrix(session, start, end, scope),
        "items": _items(session, start, end, scope),
        "centers": _centers(session, start, end, scope),
        "agreements": _agreements(session, start, end, scope),
        "ratings": _ratings(session, start, end, scope),
        "rectifications": _rectifications(session, start, end, last_day, scope),
        "overdue": _overdue(session, calendar, end, last_day, scope),
    }
