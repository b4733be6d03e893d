"""Closing a month: its figures and files are frozen, with a SHA-256 manifest.

A closed month is never recomputed or rewritten. If a step is recorded later that belongs to a
closed month (a late callback, a correction), the difference shows up as an adjustment in the
next month's report, naming the month it belongs to.
"""

import hashlib
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from catalog.districts import DISTRICT_NAMES, KUNMING_DISTRICTS
from service.audit import security_log
from service.audit.checkpoint import Book
from service.cases.models import CaseEvent
from service.clock import SHANGHAI, local_today, now_utc
from service.clocks.store import load_calendar
from service.stats import checkpoint_file
from service.stats.export import FORMATS, file_name, render
from service.stats.models import StatMonth, StatMonthFile
from service.stats.partial import kept_base
from service.stats.report import (
    FIGURES,
    late_counts,
    month_bounds,
    month_of,
    monthly_report,
    months_with_cases,
)

CITY = "city"
SCOPES = [CITY, *(d.code for d in KUNMING_DISTRICTS)]
CLOSE_LOCK = 0x57A7_C105


class MonthNotOver(Exception):
    """Only a month that has ended can be closed."""


class MonthsOutOfOrder(Exception):
    """An earlier month with cases is still open; months close in order."""


def _district(scope: str) -> str | None:
    return None if scope == CITY else scope


def adjustments(session: Session, month: str, scope: str) -> list[dict[str, Any]]:
    """Steps recorded since the last close that belong to closed months: the corrections that
    `month` reports. Closes happen in order, so the last closed month's watermark marks what
    earlier reports already hold; only the few events after it are read."""
    last = session.scalar(
        select(StatMonth).where(StatMonth.month < month).order_by(StatMonth.month.desc()).limit(1)
    )
    if last is None:
        return []
    _start, end_of_last, _first, _last = month_bounds(last.month)
    out = []
    for row in late_counts(session, last.watermark, end_of_last, _district(scope)):
        for figure in FIGURES:
            if getattr(row, figure):
                out.append(
                    {
                        "month": row.month,
                        "accepting": row.accepting_district,
                        "accepting_name": DISTRICT_NAMES.get(row.accepting_district),
                        "responsible": row.responsible_district,
                        "responsible_name": DISTRICT_NAMES.get(row.responsible_district),
                        "figure": figure,
                        "delta": getattr(row, figure),
                    }
                )
    return out


def live_report(session: Session, month: str, scope: str, kept: bool = True) -> dict[str, Any]:
    """The month as the timeline has it now, with corrections to closed months before it;
    from the rows beat keeps for it (partial.py) where they serve, unless `kept` is False."""
    calendar = load_calendar(session)
    base = kept_base(session, month, _district(scope)) if kept else None
    report = monthly_report(session, calendar, month, _district(scope), base)
    report["adjustments"] = adjustments(session, month, scope)
    report["closed"] = False
    return report


def closed_months(session: Session) -> list[StatMonth]:
    """Every closed month, newest first, with its manifest."""
    return list(session.scalars(select(StatMonth).order_by(StatMonth.month.desc())))


def close_month(session: Session, month: str, by: str, book: Book | None = None) -> StatMonth:
    """Freeze a finished month's reports and files; closing it again returns it unchanged.
    With the checkpoint `book`, the month's signed checkpoints are one of its files."""
    if month >= month_of(local_today()):
        raise MonthNotOver(month)
    # Every scope's report from one snapshot of the database: a transaction of its own.
    session.commit()
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    # Before the snapshot: wait for steps being written and hold new ones back (a few seconds,
    # once a month), so no event with an id under the watermark can commit after it and be
    # missed by both this month's figures and the next month's adjustments.
    session.execute(text("LOCK TABLE case_events IN SHARE MODE"))
    session.execute(select(func.pg_advisory_xact_lock(CLOSE_LOCK)))
    existing = session.get(StatMonth, month)
    if existing is not None:
        session.commit()
        return existing
    open_before = [m for m in months_with_cases(session) if m < month]
    closed = set(session.scalars(select(StatMonth.month)))
    if any(m not in closed for m in open_before):
        session.rollback()
        raise MonthsOutOfOrder(min(m for m in open_before if m not in closed))
    closed_at = now_utc()
    watermark = session.scalar(select(func.coalesce(func.max(CaseEvent.id), 0)))
    reports = {}
    for scope in SCOPES:
        report = live_report(session, month, scope, kept=False)
        report["closed"] = True
        report["closed_at"] = closed_at.astimezone(SHANGHAI).isoformat(timespec="seconds")
        reports[scope] = report
    record = StatMonth(
        month=month,
        closed_at=closed_at,
        closed_by=by,
        reports=reports,
        manifest={},
        watermark=watermark,
    )
    session.add(record)
    session.flush()
    manifest = {}
    for scope, report in reports.items():
        for fmt in FORMATS:
            content = render(report, fmt)
            name = file_name(month, scope, fmt)
            digest = hashlib.sha256(content).hexdigest()
            manifest[name] = digest
            session.add(
                StatMonthFile(
                    month=month, scope=scope, format=fmt, name=name, sha256=digest, content=content
                )
            )
    if book is not None:
        content = checkpoint_file.render(book, month)
        name = checkpoint_file.file_name(month)
        manifest[name] = hashlib.sha256(content).hexdigest()
        session.add(
            StatMonthFile(
                month=month,
                scope=checkpoint_file.SCOPE,
                format=checkpoint_file.FORMAT,
                name=name,
                sha256=manifest[name],
                content=content,
            )
        )
    record.manifest = manifest
    security_log.record(
        session,
        "month.close",
        target_type="stat_month",
        target=month,
        district_code=None,
        details={"closed_by": by, "watermark": watermark, "files": len(manifest)},
    )
    session.commit()
    return record


def close_due_months(session: Session, by: str = "beat", book: Book | None = None) -> list[str]:
    """Close, oldest first, every finished month since the first case that is not closed yet."""
    closed = set(session.scalars(select(StatMonth.month)))
    done = []
    for month in months_with_cases(session):
        if month not in closed:
            close_month(session, month, by, book)
            done.append(month)
    return done


def month_file(session: Session, month: str, scope: str, fmt: str) -> tuple[bytes, bool]:
    """A month's file: the frozen bytes of a closed month, or rendered now for an open one."""
    stored = session.get(StatMonthFile, (month, scope, fmt))
    if stored is not None:
        return stored.content, True
    return render(live_report(session, month, scope), fmt), False
