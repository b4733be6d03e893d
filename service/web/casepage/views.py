"""The case page for both sides: details with personal data masked, scans viewable in the page,
deadlines, timeline, and the steps the viewer may take now as forms.

Every step goes through the same service functions as the API's (perform, assign, attach,
record_rating), with the same principal, so scoping and rules are the API's own.
"""

import re

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from catalog.refusals import DomainError
from service.accounts.auth import accepts_uploads
from service.accounts.credentials import Principal
from service.cases.actions import (
    CaseNotFound,
    assign,
    assign_refused,
    claim_refused,
    locked_case,
    material_names,
    perform,
    sides_of,
    visible_case,
    working_staff,
)
from service.cases.contact import applicant_name, mailing_contact
from service.cases.lifecycle import ACTION_ZH, Action, Side, TransitionRefused
from service.cases.schemas import STEP_SCHEMAS, ActionSchema, AssignSchema
from service.cases.steps import UnitOfWork
from service.casework.presenter import present_case
from service.casework.schemas import PauseSchema
from service.clock import local_today
from service.clocks import pauses
from service.clocks.deadlines import PROCEDURES
from service.clocks.pauses import clock_refused
from service.db import db_session
from service.errors import Problem
from service.materials.originals import originals_refused, record_arrival, record_mailing
from service.materials.schemas import MailingSchema
from service.materials.service import attach, files_of, open_for_download, safe_file_name
from service.pagination import ID, MAX_ID
from service.policy import Permission
from service.ratings.levels import LEVELS
from service.ratings.schemas import RatingSchema
from service.ratings.service import rating_refused, record_rating
from service.web.auth import page_requires
from service.web.blueprints import page_blueprint
from service.web.casepage.labels import OUTCOME_ZH, event_zh
from service.web.casepage.steps import step_body
from service.web.forms import by_material, cleaned, load_form
from service.web.outcomes import Refusal, attempt, refusal_of
from service.work import take

bp = page_blueprint("casepage", __name__, "/cases")
ANYONE = page_requires(Permission.READ_CASE)
_CASE_NO_MAX = 40
_FORM_ACTIONS = {a.value: a for a in STEP_SCHEMAS}
_SCAN_ID = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() takes "²", which int() refuses


def _ext(name: str):
    return current_app.extensions[f"tongban.{name}"]


def _case(principal: Principal, case_no: str):
    case, _ = attempt(lambda: visible_case(db_session(), principal, case_no[:_CASE_NO_MAX]))
    return case


def _files(principal: Principal, case_no: str) -> list:
    # A window of another center of the district sees the case but not its scans (as the API).
    try:
        return files_of(db_session(), principal, case_no)
    except CaseNotFound:
        return []


def _mailing_contact(principal, case) -> dict | None:
    """The full contact for the window mailing the result (logged), or None where not allowed."""
    try:
        return take(case.case_no, mailing_contact, _ext("cipher"), principal, case.case_no)
    except (CaseNotFound, TransitionRefused):
        return None


def _full_name(principal, case) -> str | None:
    """The applicant's full name for a party (logged), or None where not allowed."""
    try:
        return take(case.case_no, applicant_name, _ext("cipher"), principal, case.case_no)["name"]
    except CaseNotFound:
        return None


def render_case(principal, case, *, errors=None, refusal=None, open_form=None, status=200):
    """The case page; a refused step re-renders it with that form's errors open."""
    session = db_session()
    # Before the case is shown, so that the look is already on the timeline it shows.
    contact = _mailing_contact(principal, case) if request.args.get("contact") else None
    full_name = _full_name(principal, case) if request.args.get("name") else None
    session.expire(case)  # a step may have changed it since it was read
    view = present_case(session, _ext("cipher"), case, principal, _ext("policy").clocks)
    sides = sides_of(principal, case)
    files = _files(principal, case.case_no)
    shown_scan = None
    wanted = request.args.get("scan", "")
    if _SCAN_ID.fullmatch(wanted) and int(wanted) <= MAX_ID:
        shown_scan = next((f for f in files if f.id == int(wanted) and not f.removed_at), None)
    # Offered only when assign() would take it (one rule), and not for a case already one's own.
    can_claim = (
        principal.kind == "staff"
        and case.assignee_id != principal.id
        and claim_refused(principal, case) is None
    )
    # Every offer below asks the rule its step enforces: the template reads booleans only.
    colleagues = []
    if assign_refused(principal, case) is None:
        colleagues = working_staff(session, case.responsible_district)
    return render_template(
        "casepage/case.html",
        contact=contact,
        full_name=full_name,
        can_reveal_name=bool(sides),
        case=view,
        files=files,
        shown_scan=shown_scan,
        materials=material_names(case),
        can_claim=can_claim,
        can_rate=rating_refused(session, principal, case) is None,
        can_pause=clock_refused(session, principal, case, "pause") is None,
        can_resume=clock_refused(session, principal, case, "resume") is None,
        can_mail_originals=originals_refused(principal, case, "mail") is None,
        can_receive_originals=originals_refused(principal, case, "arrival") is None,
        colleagues=colleagues,
        accepting=Side.ACCEPTING in sides,
        responsible=Side.RESPONSIBLE in sides,
        today=local_today().isoformat(),
        levels=LEVELS,
        procedures=PROCEDURES,
        action_zh={a.value: n for a, n in ACTION_ZH.items()},
        outcome_zh=OUTCOME_ZH,
        event_zh=event_zh,
        errors=errors or {},
        refusal=refusal,
        open_form=open_form,
        form=request.form if open_form else {},
    ), status


@bp.get("/<string:case_no>")
@ANYONE
def show(principal: Principal, case_no: str):
    """The case page; ?scan=<id> shows that scan in the page (the view is logged)."""
    return render_case(principal, _case(principal, case_no))


@bp.get(f"/<string:case_no>/scans/<{ID}:file_id>")
@page_requires(Permission.READ_FILES)
def scan(principal: Principal, case_no: str, file_id: int):
    """One scan inline, for the viewer on the case page; goes on the timeline as a download."""
    case_no = case_no[:_CASE_NO_MAX]
    (row, stream), _ = attempt(
        lambda: take(case_no, open_for_download, _ext("files"), principal, case_no, file_id)
    )
    response = send_file(
        stream, mimetype=row.content_type, download_name=safe_file_name(row.original_name)
    )
    if row.content_type.startswith("image/"):
        # Shown by itself, an image may run nothing; PDFs are left to the browser's viewer,
        # which such a policy would stop (their type is judged by content when stored).
        response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _after(principal, case, done_zh: str | None, refusal: Refusal | None, form_name: str):
    if refusal is None:
        flash(done_zh or "已办理。", "ok")
        return redirect(url_for(".show", case_no=case.case_no), code=303)
    # A conflict (a stale version, a step not allowed now) is said above the form; details to
    # fix are shown beside their field.
    conflict = refusal.status == 409
    errors = {refusal.field: [refusal.message_zh]} if refusal.field and not conflict else {}
    status = refusal.status
    return render_case(
        principal,
        case,
        errors=errors,
        refusal=refusal.message_zh,
        open_form=form_name,
        status=status,
    )


@bp.post("/<string:case_no>/steps/<string:action_name>")
@accepts_uploads
@ANYONE
def step(principal: Principal, case_no: str, action_name: str):
    """A lifecycle step (accept, request_supplement, reject, complete, supplement, deliver_result,
    withdraw, close) from its form, checked by the API's schema for it."""
    case = _case(principal, case_no)
    action = _FORM_ACTIONS.get(action_name)
    if action is None:
        return render_case(principal, case, refusal="未知的操作。", status=404)
    codes = list(material_names(case))
    body = step_body(action, request.form, codes)
    data, errors = load_form(STEP_SCHEMAS[action](), body)
    if errors:
        return render_case(
            principal,
            case,
            errors=by_material(errors, body),
            open_form=action.value,
            status=422,
        )

    def run(uow: UnitOfWork):
        if action == Action.SUPPLEMENT:
            # One unit: a stale form attaches nothing, and no scan stays without the step.
            locked_case(uow.session, principal, case.case_no, data["version"])
            _attach_scans(uow, principal, case, codes)
        return perform(uow, principal, case.case_no, action, data)

    _, refusal = attempt(lambda: take(case.case_no, run))
    return _after(principal, case, f"已{ACTION_ZH[action]}。", refusal, action.value)


class ScanRefused(DomainError):
    """One of a supplement form's scans was refused: said beside its material, with its name."""

    def __init__(self, file_name: str, code: str, err: DomainError | Problem):
        why = refusal_of(err).message_zh
        super().__init__(str(err), f"{file_name[:60]}：{why}", f"materials.{code}")
        self.status = err.status


def _attach_scans(uow: UnitOfWork, principal, case, codes: list[str]) -> None:
    """The supplement's scans, each attached as POST /cases/{no}/files does, before the step."""
    settings = current_app.extensions["tongban.settings"]
    for code in codes:
        for upload in request.files.getlist(f"scan_{code}"):
            if not upload or not upload.filename:
                continue
            try:
                attach(
                    uow,
                    _ext("files"),
                    principal,
                    case.case_no,
                    code,
                    upload.stream,
                    upload.filename,
                    settings.upload_limit_bytes,
                )
            except (DomainError, Problem) as err:
                raise ScanRefused(upload.filename, code, err) from err


def _form_step(principal, case_no: str, schema, fields: tuple[str, ...], name: str, done_zh, run):
    """A step from a small form: the API's schema checks it, then `run(case, data)` takes it."""
    case = _case(principal, case_no)
    data, errors = load_form(schema, cleaned(request.form, *fields))
    if errors:
        return render_case(principal, case, errors=errors, open_form=name, status=422)
    _, refusal = attempt(lambda: run(case, data))
    return _after(principal, case, done_zh, refusal, name)


@bp.post("/<string:case_no>/claim")
@ANYONE
def claim(principal: Principal, case_no: str):
    """Take the case on yourself (a clerk or supervisor of the responsible district)."""
    return _form_step(
        principal,
        case_no,
        ActionSchema(),
        ("version",),
        "claim",
        "已认领，办件由您办理。",
        lambda case, data: take(
            case.case_no, assign, principal, case.case_no, data["version"], None
        ),
    )


@bp.post("/<string:case_no>/assign")
@ANYONE
def assign_to(principal: Principal, case_no: str):
    """A supervisor gives the case to a clerk of the responsible district."""
    return _form_step(
        principal,
        case_no,
        AssignSchema(),
        ("version", "username"),
        "assign",
        "已分派。",
        lambda case, data: take(
            case.case_no, assign, principal, case.case_no, data["version"], data["username"]
        ),
    )


@bp.post("/<string:case_no>/rating")
@ANYONE
def rate(principal: Principal, case_no: str):
    """Record the citizen's rating (好差评) at the accepting window."""
    return _form_step(
        principal,
        case_no,
        RatingSchema(),
        ("level", "comment"),
        "rating",
        "评价已录入。",
        lambda case, data: take(
            case.case_no, record_rating, principal, case.case_no, data["level"], data["comment"]
        ),
    )


@bp.post("/<string:case_no>/pause")
@ANYONE
def pause(principal: Principal, case_no: str):
    """Pause the completion clock for a special procedure (hearing, testing, expert review...)."""
    return _form_step(
        principal,
        case_no,
        PauseSchema(),
        ("version", "procedure", "reason"),
        "pause",
        "已暂停计时。",
        lambda case, data: take(
            case.case_no,
            pauses.pause,
            principal,
            case.case_no,
            data["version"],
            data["procedure"],
            data["reason"],
        ),
    )


@bp.post("/<string:case_no>/resume")
@ANYONE
def resume(principal: Principal, case_no: str):
    """Resume the completion clock; the working days paused are added to its deadline."""
    return _form_step(
        principal,
        case_no,
        ActionSchema(),
        ("version", "note"),
        "resume",
        "已恢复计时。",
        lambda case, data: take(
            case.case_no, pauses.resume, principal, case.case_no, data["version"], data["note"]
        ),
    )


@bp.post("/<string:case_no>/originals")
@ANYONE
def mail_originals(principal: Principal, case_no: str):
    """The window posted the paper originals the item asks for (carrier, tracking number)."""
    case = _case(principal, case_no)
    body = {
        **cleaned(request.form, "carrier", "tracking_no", "mailed_on"),
        "materials": [c for c in material_names(case) if request.form.get(f"orig_{c}")],
    }
    data, errors = load_form(MailingSchema(), body)
    if errors:
        return render_case(principal, case, errors=errors, open_form="originals", status=422)
    _, refusal = attempt(
        lambda: take(
            case.case_no,
            record_mailing,
            principal,
            case.case_no,
            data["materials"],
            data["carrier"],
            data["tracking_no"],
            data["mailed_on"],
        )
    )
    return _after(principal, case, "已登记原件寄出。", refusal, "originals")


@bp.post(f"/<string:case_no>/originals/<{ID}:mailing_id>/arrived")
@ANYONE
def originals_arrived(principal: Principal, case_no: str, mailing_id: int):
    """The responsible district received the originals."""
    case = _case(principal, case_no)
    _, refusal = attempt(
        lambda: take(case.case_no, record_arrival, principal, case.case_no, mailing_id)
    )
    return _after(principal, case, "已登记原件送达。", refusal, "originals")
