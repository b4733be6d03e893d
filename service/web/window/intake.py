"""The intake form: the item's materials checklist as form fields, and the form as the API's
application body (ApplicationSchema), with each material's scans staged through the uploads flow.
"""

import re
from typing import Any

from flask import current_app
from werkzeug.datastructures import MultiDict

from service.accounts.credentials import Principal
from service.db import db_session
from service.materials.service import stage, staged_files
from service.materials.store import Refused
from service.uploads import MAX_SCANS
from service.web.forms import FormErrors

_ID = re.compile(r"^\d{1,18}$")


def _staged_ids(form: MultiDict, code: str) -> list[int]:
    return [int(v) for v in form.getlist(f"staged_{code}") if _ID.match(v)][:MAX_SCANS]


def stage_scans(
    principal: Principal, item: dict[str, Any], form: MultiDict, files: MultiDict
) -> tuple[dict[str, list], FormErrors]:
    """Store the scans chosen for each material (POST /uploads does the same), keeping those
    staged by an earlier try of this form; returns {code: [CaseFile]} and any refusals."""
    session = db_session()
    settings = current_app.extensions["tongban.settings"]
    staged: dict[str, list] = {}
    errors: FormErrors = {}
    for material in item["materials"]:
        code = material["code"]
        rows = staged_files(session, principal, _staged_ids(form, code))
        chosen = [u for u in files.getlist(f"scan_{code}") if u and u.filename]
        room = max(MAX_SCANS - len(rows), 0)
        if len(chosen) > room:
            # Store no more than the application may name; the rest are not kept at all.
            errors.setdefault(f"materials.{code}", []).append(
                f"每项材料最多{MAX_SCANS}份扫描件，超出的{len(chosen) - room}份未上传。"
            )
        for upload in chosen[:room]:
            try:
                rows.append(
                    stage(
                        session,
                        current_app.extensions["tongban.files"],
                        principal,
                        upload.stream,
                        upload.filename,
                        settings.upload_limit_bytes,
                    )
                )
            except Refused as err:
                errors.setdefault(f"materials.{code}", []).append(
                    f"{upload.filename[:60]}：{err.message_zh}"
                )
        staged[code] = rows
    return staged, errors


def application_from(item: dict[str, Any], form: MultiDict, staged: dict[str, list]) -> dict:
    """The application body the API would receive, from the form; the schema then checks it."""
    materials, deferred = [], []
    for material in item["materials"]:
        code = material["code"]
        files = [row.id for row in staged.get(code, [])]
        if form.get(f"got_{code}") or files:
            entry: dict[str, Any] = {"code": code, "files": files}
            for count in ("originals", "copies"):
                value = (form.get(f"{count}_{code}") or "").strip()
                if value:
                    entry[count] = value
            materials.append(entry)
        elif (form.get(f"defer_{code}") or "").strip():
            deferred.append({"code": code, "promised_by": form[f"defer_{code}"].strip()})
    applicant = {
        k: form.get(k, "").strip()
        for k in ("name", "id_number", "phone", "address")
        if form.get(k, "").strip()
    }
    body: dict[str, Any] = {
        "item_code": item["basic_code"],
        "applicant": applicant,
        "facts": {},
        "materials": materials,
        "deferred_materials": deferred,
        "result_delivery": form.get("result_delivery") or "window",
    }
    fact = item["needs_fact"]
    if form.get(fact):
        body["facts"][fact] = form[fact]
    if form.get("note", "").strip():
        body["note"] = form["note"].strip()
    return body


def material_errors(problems: list[dict]) -> FormErrors:
    """The intake's materials refusal (every problem at once) as per-material messages."""
    return {f"materials.{p['code']}": [f"{p['name']}：{p['reason_zh']}"] for p in problems}
