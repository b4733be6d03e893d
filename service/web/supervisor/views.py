"""The supervisor's page: this month's figures and trends (inline SVG), overdue and due-soon
cases, dead letters and the districts' connector state.

Figures come from the monthly report (service.stats), exactly what auditors export; the lists
from the queue query and the dead-letter query the API uses.
"""

import json

from flask import current_app, render_template

from catalog.districts import DISTRICT_NAMES
from catalog.repository import agreements_of
from service import policy
from service.accounts.credentials import Principal
from service.casework.queue import NO_FILTERS, queue_rows
from service.clock import local_today
from service.db import db_session
from service.districts.dead_letters import dead_letters_query, present_dead_letter
from service.districts.metrics import district_metrics
from service.policy import Permission
from service.stats.closing import month_file
from service.stats.report import MEASURES_ZH
from service.web.auth import page_requires
from service.web.blueprints import page_blueprint
from service.web.supervisor.charts import grouped_bars, horizontal_bars

bp = page_blueprint("supervisor", __name__, "/supervisor")
TREND_MONTHS = 6
LIST_LIMIT = 20


def _months_back(count: int) -> list[str]:
    """The last `count` months (YYYY-MM, Asia/Shanghai), this one last."""
    today = local_today()
    year, month, out = today.year, today.month, []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def _report(session, month: str, scope: str) -> dict:
    """The month's report as auditors get it (frozen once the month is closed)."""
    content, _closed = month_file(session, month, scope, "json")
    return json.loads(content)


def _partners(session, district: str | None) -> set[str] | None:
    """The districts this one exchanges cases with (None: city-wide, every district)."""
    if district is None:
        return None
    codes = {district}
    for agreement in agreements_of(session, district):
        codes.update(agreement.districts)
    return codes


@bp.get("/")
@page_requires(Permission.DASHBOARD)
def dashboard(principal: Principal):
    """This month at a glance for the supervisor's district (city-wide for city admins)."""
    session, ext = db_session(), current_app.extensions
    district = principal.district_code
    scope = district or "city"
    months = _months_back(TREND_MONTHS)
    reports = [_report(session, m, scope) for m in months]
    this = reports[-1]
    trend = grouped_bars(
        "近六个月收件量与办结量",
        [m[5:] + "月" for m in months],
        [
            ("收件量", [r["totals"]["submitted"] for r in reports]),
            ("办结量", [r["totals"]["completed"] for r in reports]),
            ("按时办结", [r["totals"]["completed_on_time"] for r in reports]),
        ],
    )
    ratings = horizontal_bars(
        "本月好差评", [(r["level_zh"], r["count"]) for r in this["ratings"]], "#7aa974"
    )
    due_lists = {}
    if district is not None and policy.case_scope(principal):  # admins see no cases
        for state in ("overdue", "due_soon"):
            due_lists[state], _ = queue_rows(
                session,
                ext["tongban.cipher"],
                ext["tongban.policy"].clocks,
                principal,
                district,
                {**NO_FILTERS, "due": [state]},
                None,
                LIST_LIMIT,
            )
    dead = [
        present_dead_letter(m, no)
        for m, no in session.execute(dead_letters_query(district).limit(LIST_LIMIT)).all()
    ]
    partners = _partners(session, district)
    connectors = [d for d in district_metrics(session) if partners is None or d["code"] in partners]
    return render_template(
        "supervisor/dashboard.html",
        month=months[-1],
        report=this,
        figures_zh=MEASURES_ZH,
        on_time=this["totals"]["on_time_rate"],
        trend=trend,
        ratings=ratings,
        due_lists=due_lists,
        dead=dead,
        connectors=connectors,
        district_name=DISTRICT_NAMES.get(district, "昆明市") if district else "昆明市",
    )
