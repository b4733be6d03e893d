"""The access matrix: every operation of the OpenAPI document, called by every kind of caller,
answers as documented here. A new operation fails `test_every_operation_has_an_entry` until it
is given a row, so no route ships without someone deciding who may call it.

Outcomes:
- 401, 403, 404: exactly that status (404: the object is outside the caller's reach);
- SIDE: a 409 `not-your-step` (the caller sees the case but the step is the other side's);
- OK: access granted: 200 for reads; for writes, anything but 401/403/404/SIDE/5xx (a step
  refused for the case's status, or a deliberately incomplete body, is fine here: the step
  tests cover the rest).
"""

import io
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from tests.helpers import application, submit

OK, SIDE = "ok", "side"

CALLERS = (
    "anon",
    "win_acc",  # the terminal of the center that took the case (FM-01)
    "win_below",  # another center of the same district (FM-YD-BC, below FM-01)
    "win_other",  # a terminal of another district (XS-01)
    "clerk_resp",  # back office of the responsible district (五华)
    "sup_resp",
    "clerk_acc",  # back office of the accepting district (富民)
    "clerk_other",  # back office of an uninvolved district (西山)
    "admin_other",  # a district admin of 西山
    "admin_city",
    "sec_admin",
    "auditor",  # city-wide statistics auditor
    "sec_auditor",
)


def row(default: Any = 403, **outcomes: Any) -> dict[str, Any]:
    """Outcomes by caller: `default` for those not named, 401 for anonymous unless named."""
    unknown = set(outcomes) - set(CALLERS) - {"windows", "parties", "staff_parties"}
    assert not unknown, unknown
    table = {caller: default for caller in CALLERS}
    table["anon"] = 401
    for group, members in (
        ("windows", ("win_acc", "win_below", "win_other")),
        ("parties", ("win_acc", "clerk_resp", "sup_resp", "clerk_acc")),
        ("staff_parties", ("clerk_resp", "sup_resp", "clerk_acc")),
    ):
        if group in outcomes:
            table.update(dict.fromkeys(members, outcomes.pop(group)))
    table.update(outcomes)
    return table


# Callers who read a case (the parties and the statistics auditor), others of a district 404.
CASE_READ = row(
    OK, win_below=OK, win_other=404, clerk_other=404, admin_other=403, admin_city=403,
    sec_admin=403, sec_auditor=403,
)  # fmt: skip
# A responsible-side step: its back office; the window sees the case but it is not its step.
RESPONSIBLE_STEP = row(
    403, win_acc=SIDE, win_below=SIDE, win_other=404, clerk_resp=OK, sup_resp=OK,
    clerk_acc=SIDE, clerk_other=404,
)  # fmt: skip
# An accepting-side step: the window that took the case (or one above it).
ACCEPTING_STEP = row(
    403, win_acc=OK, win_below=SIDE, win_other=404, clerk_resp=SIDE, sup_resp=SIDE,
    clerk_acc=SIDE, clerk_other=404,
)  # fmt: skip
ANY_CREDENTIAL = row(OK)
EVERY_WORKER = row(403, windows=OK, staff_parties=OK, clerk_other=OK)
ADMINS = row(403, admin_city=OK, admin_other=OK)
CITY_ADMIN = row(403, admin_city=OK)
PUBLIC_404 = row(404, anon=404)
OWN_ACCOUNT = row(OK, windows=403)
SECURITY_ADMIN = row(403, sec_admin=OK)

# (method, path) -> (outcomes, how to call it). Paths as the OpenAPI document names them.
MATRIX: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {
    # Anyone may try to log in; these are wrong credentials.
    ("POST", "/api/v1/auth/token"): (
        row(401),
        {"json": {"username": "nobody", "password": "wrong-password"}},
    ),
    ("DELETE", "/api/v1/auth/token"): (ANY_CREDENTIAL, {"fresh": True}),
    ("GET", "/api/v1/auth/me"): (ANY_CREDENTIAL, {}),
    # One's own password and second factor: staff only (an incomplete body is a 422).
    ("POST", "/api/v1/auth/password"): (OWN_ACCOUNT, {"json": {}}),
    ("GET", "/api/v1/auth/totp"): (OWN_ACCOUNT, {}),
    ("POST", "/api/v1/auth/totp"): (OWN_ACCOUNT, {"json": {}}),
    # Accounts, terminals and sessions: security administration only (三员分立). Each call works
    # on a clerk and a terminal of 西山 made for the test, never on a caller.
    ("GET", "/api/v1/admin/staff"): (SECURITY_ADMIN, {}),
    ("POST", "/api/v1/admin/staff"): (SECURITY_ADMIN, {"json": {}}),
    ("GET", "/api/v1/admin/staff/{user_id}"): (SECURITY_ADMIN, {}),
    ("POST", "/api/v1/admin/staff/{user_id}/deactivate"): (SECURITY_ADMIN, {}),
    ("POST", "/api/v1/admin/staff/{user_id}/reactivate"): (SECURITY_ADMIN, {}),
    ("POST", "/api/v1/admin/staff/{user_id}/reset-password"): (SECURITY_ADMIN, {"json": {}}),
    ("PUT", "/api/v1/admin/staff/{user_id}/role"): (
        SECURITY_ADMIN,
        {"json": {"role": "supervisor", "district_code": "530112"}},
    ),
    ("GET", "/api/v1/admin/terminals"): (SECURITY_ADMIN, {}),
    ("POST", "/api/v1/admin/terminals"): (SECURITY_ADMIN, {"json": {}}),
    ("POST", "/api/v1/admin/terminals/{terminal_id}/rotate-key"): (SECURITY_ADMIN, {}),
    ("POST", "/api/v1/admin/terminals/{terminal_id}/revoke"): (SECURITY_ADMIN, {}),
    ("GET", "/api/v1/admin/sessions"): (SECURITY_ADMIN, {}),
    ("DELETE", "/api/v1/admin/sessions/{kind}/{session_id}"): (SECURITY_ADMIN, {}),
    ("GET", "/api/v1/admin/security-events"): (row(403, sec_auditor=OK), {}),
    ("GET", "/api/v1/admin/security-events/export"): (
        row(403, sec_auditor=OK),
        {"query": "format=csv&action=login.lockout"},
    ),
    ("GET", "/api/v1/catalog/items"): (ANY_CREDENTIAL, {"query": "q=sbk"}),
    ("GET", "/api/v1/catalog/items/{basic_code}"): (ANY_CREDENTIAL, {}),
    ("GET", "/api/v1/catalog/departments"): (ANY_CREDENTIAL, {}),
    ("GET", "/api/v1/districts"): (ANY_CREDENTIAL, {}),
    ("GET", "/api/v1/calendar/years"): (ANY_CREDENTIAL, {}),
    ("GET", "/api/v1/admin/catalog/template"): (
        row(403, sup_resp=OK, admin_other=OK, admin_city=OK, auditor=OK),
        {},
    ),
    ("GET", "/api/v1/admin/catalog/export"): (
        row(403, sup_resp=OK, admin_other=OK, admin_city=OK, auditor=OK),
        {},
    ),
    ("POST", "/api/v1/admin/catalog/imports"): (CITY_ADMIN, {"query": "dry_run=true"}),
    ("PUT", "/api/v1/admin/calendar/years/{year}"): (CITY_ADMIN, {}),
    ("POST", "/api/v1/applications"): (row(403, windows=OK), {"json": {}}),
    ("GET", "/api/v1/applications/{case_no}"): (CASE_READ, {}),
    ("POST", "/api/v1/cases/{case_no}/accept"): (RESPONSIBLE_STEP, {"step": {}}),
    ("POST", "/api/v1/cases/{case_no}/reject"): (
        RESPONSIBLE_STEP,
        {"step": {"reason": "材料不全"}},
    ),
    ("POST", "/api/v1/cases/{case_no}/request-supplement"): (
        RESPONSIBLE_STEP,
        {"step": {"materials": [{"code": "M01", "problem": "不清晰"}]}},
    ),
    ("POST", "/api/v1/cases/{case_no}/complete"): (
        RESPONSIBLE_STEP,
        {"step": {"outcome": "approved", "document_no": "五社保〔2026〕1号"}},
    ),
    ("POST", "/api/v1/cases/{case_no}/supplement"): (
        ACCEPTING_STEP,
        {"step": {"materials": [{"code": "M01"}]}},
    ),
    ("POST", "/api/v1/cases/{case_no}/deliver-result"): (
        ACCEPTING_STEP,
        {"step": {"method": "window"}},
    ),
    ("POST", "/api/v1/cases/{case_no}/close"): (ACCEPTING_STEP, {"step": {}}),
    # Last of the steps in this table's order: it succeeds for the window that took the case.
    ("POST", "/api/v1/cases/{case_no}/withdraw"): (ACCEPTING_STEP, {"step": {"reason": "撤回"}}),
    ("GET", "/api/v1/cases/{case_no}/mailing-contact"): (
        row(403, win_acc=OK, win_below=404, win_other=404),
        {},
    ),
    # A party only: the window that took the case and the responsible district's staff.
    ("GET", "/api/v1/cases/{case_no}/applicant-name"): (
        row(
            403,
            win_acc=OK,
            win_below=404,
            win_other=404,
            clerk_resp=OK,
            sup_resp=OK,
            clerk_acc=404,
            clerk_other=404,
        ),
        {},
    ),
    ("POST", "/api/v1/cases/{case_no}/claim"): (
        row(403, clerk_resp=OK, sup_resp=OK, clerk_acc=SIDE, clerk_other=404),
        {"step": {}},
    ),
    ("POST", "/api/v1/cases/{case_no}/pause"): (
        row(403, clerk_resp=OK, sup_resp=OK, clerk_acc=SIDE, clerk_other=404),
        {"step": {"procedure": "hearing", "reason": "听证"}},
    ),
    ("POST", "/api/v1/cases/{case_no}/resume"): (
        row(403, clerk_resp=OK, sup_resp=OK, clerk_acc=SIDE, clerk_other=404),
        {"step": {}},
    ),
    ("POST", "/api/v1/cases/{case_no}/assign"): (
        row(403, sup_resp=OK),
        {"step": {"username": "nobody"}},
    ),
    ("GET", "/api/v1/queue"): (
        row(403, staff_parties=OK, clerk_other=OK, auditor=OK),
        {"query": "district=530102"},
    ),
    ("GET", "/api/v1/notifications"): (EVERY_WORKER, {}),
    # Marking read only ever touches the caller's own news: an unknown id is a quiet no-op.
    ("POST", "/api/v1/notifications/{notification_id}/read"): (EVERY_WORKER, {}),
    ("POST", "/api/v1/uploads"): (row(403, windows=OK), {"upload": True}),
    ("POST", "/api/v1/cases/{case_no}/files"): (
        row(403, win_acc=OK, win_below=404, win_other=404),
        {"upload": True},
    ),
    ("GET", "/api/v1/cases/{case_no}/files"): (
        row(403, win_acc=OK, win_below=404, win_other=404, staff_parties=OK, clerk_other=404),
        {},
    ),
    ("GET", "/api/v1/cases/{case_no}/files/{file_id}"): (
        row(403, win_acc=OK, win_below=404, win_other=404, staff_parties=OK, clerk_other=404),
        {},
    ),
    ("POST", "/api/v1/cases/{case_no}/originals"): (
        ACCEPTING_STEP,
        {
            "json": {
                "materials": ["M01"],
                "carrier": "中国邮政",
                "tracking_no": "1180012345678",
                "mailed_on": "2026-12-01",
            }
        },
    ),
    ("POST", "/api/v1/cases/{case_no}/originals/{mailing_id}/arrived"): (
        row(403, clerk_resp=404, sup_resp=404, clerk_acc=SIDE, clerk_other=404),
        {},
    ),
    ("POST", "/api/v1/cases/{case_no}/rating"): (
        row(403, win_acc=OK, win_below=SIDE, win_other=404),
        {"json": {"level": "satisfied"}},
    ),
    ("GET", "/api/v1/rectifications"): (row(403, staff_parties=OK, clerk_other=OK, auditor=OK), {}),
    ("POST", "/api/v1/rectifications/{rectification_id}/callback"): (
        row(403, staff_parties=404, clerk_other=404),
        {"json": {"text": "已回访"}},
    ),
    ("POST", "/api/v1/rectifications/{rectification_id}/close"): (
        row(403, staff_parties=404, clerk_other=404),
        {"json": {"text": "已整改"}},
    ),
    ("POST", "/api/v1/rectifications/{rectification_id}/appeal"): (
        row(403, staff_parties=404, clerk_other=404),
        {"json": {"text": "误评"}},
    ),
    ("POST", "/api/v1/rectifications/{rectification_id}/review"): (
        row(403, sup_resp=404),
        {"json": {"decision": "dismissed", "note": "维持"}},
    ),
    # Signed by district systems, not by credentials: nobody here has a signature.
    ("POST", "/api/v1/districts/{code}/callbacks"): (PUBLIC_404, {"json": {}}),
    ("GET", "/api/v1/districts/{code}/files/{file_id}"): (PUBLIC_404, {}),
    # The citizen's look-up: no credential needed, the query code is the secret.
    ("GET", "/api/v1/public/cases/{case_no}"): (row(OK, anon=OK), {"query": "code={query_code}"}),
    ("GET", "/api/v1/applications/{case_no}/query-code"): (
        row(403, win_acc=OK, win_below=404, win_other=404),
        {},
    ),
    ("GET", "/api/v1/admin/districts"): (
        row(403, sup_resp=OK, admin_other=OK, admin_city=OK, auditor=OK),
        {},
    ),
    ("PUT", "/api/v1/admin/districts/{code}/connector"): (
        row(403, admin_other=404, admin_city=OK),
        {"json": {"kind": "internal"}},
    ),
    ("POST", "/api/v1/admin/districts/{code}/pause"): (
        row(403, admin_other=404, admin_city=OK),
        {"json": {"reason": "维护"}},
    ),
    ("POST", "/api/v1/admin/districts/{code}/resume"): (
        row(403, admin_other=404, admin_city=OK),
        {},
    ),
    ("GET", "/api/v1/stats/monthly"): (
        row(403, sup_resp=OK, admin_other=OK, admin_city=OK, auditor=OK),
        {"query": "month=2026-11"},
    ),
    ("GET", "/api/v1/stats/months"): (
        row(403, sup_resp=OK, admin_other=OK, admin_city=OK, auditor=OK),
        {},
    ),
    # An impossible month: the access is checked, nothing is closed.
    ("POST", "/api/v1/admin/stats/months/{month}/close"): (CITY_ADMIN, {}),
    ("GET", "/api/v1/admin/audit/verify"): (
        row(403, admin_city=OK, auditor=OK, sec_auditor=OK),
        {},
    ),
    ("GET", "/api/v1/admin/dead-letters"): (ADMINS, {}),
    ("POST", "/api/v1/admin/dead-letters/{message_id}/replay"): (
        row(403, admin_other=404, admin_city=404),
        {},
    ),
    ("POST", "/api/v1/admin/dead-letters/replay"): (ADMINS, {}),
}

PATH_VALUES = {
    "basic_code": "000112001000",
    "year": "2027",
    "notification_id": "999999999",
    "mailing_id": "999999999",
    "rectification_id": "999999999",
    # 官渡区: no test delivers there, so pausing it or resetting its connector disturbs nothing.
    "code": "530111",
    "month": "1999-01",
    "message_id": "00000000-0000-4000-8000-000000000000",
}
STAFF = {
    "clerk_resp": ("clerk", "530102"),
    "sup_resp": ("supervisor", "530102"),
    "clerk_acc": ("clerk", "530124"),
    "clerk_other": ("clerk", "530112"),
    "admin_other": ("admin", "530112"),
    "admin_city": ("admin", None),
    "sec_admin": ("security_admin", None),
    "auditor": ("auditor", None),
    "sec_auditor": ("security_auditor", None),
}
WINDOWS = {"win_acc": "FM-01", "win_below": "FM-YD-BC", "win_other": "XS-01"}
PDF = b"%PDF-1.7\n" + b"matrix " * 100
PASSWORD = "matrix-password-not-used"


def _callers(migrated) -> dict[str, dict[str, str]]:
    """Bearer headers for a new caller of each kind."""
    from datetime import timedelta

    from service.accounts.credentials import create_staff, create_terminal, issue_token
    from service.accounts.models import ServiceCenter

    callers: dict[str, dict[str, str]] = {"anon": {}}
    with migrated.sessionmaker() as session:
        for name, code in WINDOWS.items():
            center = session.query(ServiceCenter).filter_by(code=code).one()
            _terminal, key = create_terminal(session, center, f"矩阵{name}")
            callers[name] = {"Authorization": f"Bearer {key}"}
        for name, (role, district) in STAFF.items():
            user = create_staff(
                session, f"matrix-{name}-{uuid.uuid4().hex[:6]}", PASSWORD, role, district
            )
            token, _ = issue_token(session, user, timedelta(hours=1))
            callers[name] = {"Authorization": f"Bearer {token}"}
        session.commit()
    return callers


@pytest.fixture(scope="module")
def callers(migrated) -> dict[str, dict[str, str]]:
    return _callers(migrated)


def _account_targets(migrated) -> dict[str, str]:
    """A clerk with a session and a terminal of 西山, for the account operations to act on."""
    from datetime import timedelta

    from service.accounts.credentials import create_staff, create_terminal, issue_token
    from service.accounts.models import ServiceCenter, StaffToken

    with migrated.sessionmaker() as session:
        user = create_staff(session, f"target-{uuid.uuid4().hex[:8]}", PASSWORD, "clerk", "530112")
        issue_token(session, user, timedelta(hours=1))
        center = session.query(ServiceCenter).filter_by(code="XS-01").one()
        terminal, _key = create_terminal(session, center, "矩阵目标终端")
        token_id = session.query(StaffToken.id).filter_by(user_id=user.id).scalar()
        session.commit()
        return {
            "user_id": str(user.id),
            "terminal_id": str(terminal.id),
            "kind": "staff",
            "session_id": str(token_id),
        }


def _operations(client) -> list[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    return [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_operation_has_an_entry(client):
    operations = set(_operations(client))
    assert operations - set(MATRIX) == set(), "operations without a row in MATRIX"
    assert set(MATRIX) - operations == set(), "rows for operations that are gone"


def _version(engine, case_no: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT version FROM cases WHERE case_no = :n"), {"n": case_no}
        ).scalar_one()


def _outcome(method: str, response) -> Any:
    status = response.status_code
    assert status < 500, (status, response.get_data(as_text=True)[:300])
    body = response.get_json(silent=True) or {}
    if status == 409 and str(body.get("type", "")).endswith("/not-your-step"):
        return SIDE
    if status in (401, 403, 404):
        return status
    if method in ("GET", "HEAD") and status not in (200, 409):  # 409: the mailing contact
        return status
    return OK


# HEAD is answered by the GET view (Flask, MethodView): it must be checked as the GET is.
OPERATIONS = list(MATRIX) + [("HEAD", path) for method, path in MATRIX if method == "GET"]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=lambda v: str(v))
def test_access_matrix(method, path, client, engine, migrated, callers):
    expected, how = MATRIX[("GET" if method == "HEAD" else method, path)]
    window = callers["win_acc"]
    callers = _callers(migrated) if how.get("fresh") else callers
    scan = client.post(
        "/api/v1/uploads",
        headers=window,
        data={"file": (io.BytesIO(PDF), "scan.pdf")},
        content_type="multipart/form-data",
    ).get_json()["id"]
    body = application()
    body["materials"][0]["files"] = [scan]
    submitted = submit(client, window, body).get_json()
    case_no = submitted["case_no"]
    values = {
        **PATH_VALUES,
        **_account_targets(migrated),
        "case_no": case_no,
        "file_id": str(scan),
        "query_code": submitted["query_code"],
    }
    url = path.format(**values)
    if how.get("query"):
        url += "?" + how["query"].format(**values)
    seen = {}
    for n, caller in enumerate(CALLERS):
        # Each caller from an address of its own, as the look-up's per-address limit expects.
        kwargs: dict[str, Any] = {
            "headers": dict(callers[caller]),
            "environ_base": {"REMOTE_ADDR": f"10.99.{n}.{uuid.uuid4().int % 250 + 1}"},
        }
        if "step" in how:
            kwargs["json"] = {"version": _version(engine, case_no), **how["step"]}
        elif "json" in how:
            kwargs["json"] = how["json"]
        elif how.get("upload"):
            kwargs["data"] = {"material_code": "M01", "file": (io.BytesIO(PDF), "scan.pdf")}
            kwargs["content_type"] = "multipart/form-data"
        response = client.open(url, method=method, **kwargs)
        seen[caller] = _outcome(method, response)
    wrong = {
        c: f"got {seen[c]}, documented {expected[c]}" for c in CALLERS if seen[c] != expected[c]
    }
    assert not wrong
