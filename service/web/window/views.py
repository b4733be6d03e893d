"""Window (service-center) pages: item search, the intake form, the receipt."""

import uuid

from flask import current_app, redirect, render_template, request, url_for

from catalog.districts import KUNMING_DISTRICTS
from service.accounts.auth import accepts_uploads
from service.accounts.credentials import Principal
from service.accounts.models import ServiceCenter
from service.cases import query_code
from service.cases.actions import visible_case
from service.cases.news import mark_read_for, news_for
from service.casework.intake import submit_application
from service.casework.presenter import present_case
from service.casework.queue import window_todo
from service.casework.schemas import ApplicationSchema
from service.catalog_api.api import item_in_force, search_items
from service.db import db_session
from service.pagination import MAX_ID
from service.policy import Permission
from service.web.auth import page_requires
from service.web.blueprints import page_blueprint
from service.web.forms import by_material, load_form
from service.web.outcomes import attempt
from service.web.window.intake import (
    application_from,
    material_errors,
    stage_scans,
)
from service.work import take, unit_of_work

bp = page_blueprint("window", __name__, "/window")
WINDOW = page_requires(Permission.SUBMIT)
SEARCH_LIMIT = 20
TODO_LIMIT = 30


def _ext(name: str):
    return current_app.extensions[f"tongban.{name}"]


@bp.get("/")
@WINDOW
def home(principal: Principal):
    """Search the items this window may take (name, code, pinyin initials), and its news."""
    q = (request.args.get("q") or "").strip()[:50]
    session = db_session()
    found = search_items(session, principal, q, None, None, SEARCH_LIMIT) if q else None
    news, _ = news_for(session, principal, unread=False, before_id=None, limit=10)
    todo = window_todo(session, principal, TODO_LIMIT)
    center = session.get(ServiceCenter, principal.center_id)
    return render_template(
        "window/home.html", q=q, found=found, news=news, todo=todo, center=center
    )


@bp.post("/news/<int:notification_id>/read")
@WINDOW
def news_read(principal: Principal, notification_id: int):
    """Mark one of this window's news read."""
    if notification_id <= MAX_ID:
        take(None, lambda uow: mark_read_for(uow.session, principal, notification_id))
    return redirect(url_for(".home"), code=303)


@bp.get("/go")
@WINDOW
def go(principal: Principal):
    """Open a case by its number (typed or scanned from a receipt)."""
    case_no = (request.args.get("case_no") or "").strip()[:40]
    return redirect(url_for("casepage.show", case_no=case_no) if case_no else url_for(".home"))


def _intake_page(item, form, staged, errors, message=None, status=200):
    return render_template(
        "window/intake.html",
        item=item,
        form=form,
        staged=staged,
        errors=errors,
        message=message,
        districts=KUNMING_DISTRICTS,
        idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex,
    ), status


@bp.route("/items/<string:basic_code>", methods=["GET", "POST"])
@accepts_uploads
@WINDOW
def intake(principal: Principal, basic_code: str):
    """The intake form built from the item's materials checklist; POST submits the application
    through the same intake as POST /api/v1/applications."""
    session = db_session()
    item = item_in_force(session, principal, basic_code[:12])
    if item is None:
        return render_template(
            "error.html", title="未找到事项", message="未找到该事项，或本窗口不能受理它。"
        ), 404
    if request.method == "GET":
        return _intake_page(item, request.form, {}, {})
    form = request.form
    with unit_of_work():  # kept even if the application is refused: the form shows them
        staged, errors = stage_scans(principal, item, form, request.files)
    body = application_from(item, form, staged)
    data, schema_errors = load_form(ApplicationSchema(), body)
    errors |= by_material(schema_errors, body)
    if errors:
        return _intake_page(item, form, staged, errors, status=422)
    key = (form.get("idempotency_key") or "")[:128] or uuid.uuid4().hex
    result, refusal = attempt(
        lambda: take(None, submit_application, _ext("cipher"), principal, data, key)
    )
    if refusal is not None:
        problems = material_errors(refusal.problems) if refusal.problems else {}
        return _intake_page(item, form, staged, problems, refusal.message_zh, status=422)
    return redirect(url_for(".receipt", case_no=result.case.case_no), code=303)


@bp.get("/cases/<string:case_no>/receipt")
@WINDOW
def receipt(principal: Principal, case_no: str):
    """The printable receipt (回执): case number, query code, what was handed in, and what
    happens next. The query code is printed only at the center that took the application (a
    case from before codes existed gets one here)."""
    session = db_session()
    case, _ = attempt(lambda: visible_case(session, principal, case_no[:40]))
    view = present_case(session, _ext("cipher"), case, principal, _ext("policy").clocks)
    center = session.get(ServiceCenter, case.accepting_center_id)
    # Signed by whoever took the application in, not whoever prints the receipt again later.
    clerk = next((e.actor_name for e in case.events if e.type == "submitted"), None)
    code = None
    if query_code.shown_to(principal, case):
        issued = take(
            case.case_no,
            lambda uow: query_code.reveal(uow.session, _ext("cipher"), principal, case),
        )
        code = query_code.display(issued)
    return render_template(
        "window/receipt.html",
        case=view,
        center=center,
        clerk=clerk or "",
        query_code=code,
        accept_limit_days=_ext("policy").clocks.accept_limit_days,
    )
