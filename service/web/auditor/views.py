"""Monthly reports on screen for auditors, with their XLSX, CSV and JSON files to download.

The same report and files as GET /api/v1/stats/monthly (a closed month is its frozen file),
checked by the same query schema and scoped the same way.
"""

import json

from flask import render_template, request

from catalog.districts import KUNMING_DISTRICTS
from service.accounts.credentials import Principal
from service.clock import local_today
from service.db import db_session
from service.policy import Permission
from service.stats.api import MonthlyQuerySchema, report_response, report_scope
from service.stats.closing import closed_months, month_file, month_of
from service.stats.report import MEASURES_ZH
from service.web.auth import page_requires
from service.web.blueprints import page_blueprint
from service.web.forms import cleaned, load_form

bp = page_blueprint("auditor", __name__, "/reports")
READER_PAGE = page_requires(Permission.READ_STATS)
SHOWN_ROWS = 50


def _query():
    args = {"month": month_of(local_today()), **cleaned(request.args, "month", "district")}
    if request.args.get("format"):
        args["format"] = request.args["format"]
    return load_form(MonthlyQuerySchema(), args)


@bp.get("/")
@READER_PAGE
def report(principal: Principal):
    """The month's report: totals, the district matrix, items, centers, ratings, overdue."""
    query, errors = _query()
    if errors:
        query = {"month": month_of(local_today()), "district": None}
    session = db_session()
    scope = report_scope(principal, query["district"])
    content, closed = month_file(session, query["month"], scope, "json")
    return render_template(
        "auditor/report.html",
        report=json.loads(content),
        closed=closed,
        month=query["month"],
        scope=scope,
        errors=errors,
        figures_zh=MEASURES_ZH,
        city_wide=principal.district_code is None,
        districts=KUNMING_DISTRICTS,
        closed_months=closed_months(session),
        shown_rows=SHOWN_ROWS,
    ), 422 if errors else 200


@bp.get("/download")
@READER_PAGE
def download(principal: Principal):
    """The report's file (XLSX, CSV zip or JSON), byte for byte what the API gives."""
    query, errors = _query()
    if errors:
        return render_template(
            "error.html", title="无法下载", message="月份或行政区有误，请返回重新选择。"
        ), 422
    scope = report_scope(principal, query["district"])
    return report_response(db_session(), query["month"], scope, query["format"])
