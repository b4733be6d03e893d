"""Scans of a case's materials: upload at the window, list, and download (logged)."""

from flask import current_app, send_file

from service.accounts.auth import (
    BEARER_SECURITY,
    accepts_uploads,
    current_principal,
    requires,
)
from service.db import db_session
from service.logs import case_no_var
from service.materials.originals import record_arrival, record_mailing
from service.materials.schemas import (
    AttachFileSchema,
    AttachSchema,
    CaseFileSchema,
    MailingOutSchema,
    MailingSchema,
)
from service.materials.service import (
    attach,
    files_of,
    open_for_download,
    safe_file_name,
    stage,
)
from service.openapi import Blueprint
from service.pagination import ID
from service.policy import Permission
from service.work import take, unit_of_work

blp = Blueprint("materials", __name__, url_prefix="/api/v1", description="Materials")


def _store():
    return current_app.extensions["tongban.files"]


@blp.route("/uploads", methods=["POST"])
@blp.arguments(AttachFileSchema, location="files")
@blp.response(201, CaseFileSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.UPLOAD)
@accepts_uploads
def upload_for_application(files):
    """Upload a scan for an application about to be submitted; name its id in the
    application's materials (`materials[].files`). Unused scans are removed after an hour."""
    settings = current_app.extensions["tongban.settings"]
    with unit_of_work() as uow:
        return stage(
            uow.session,
            _store(),
            current_principal(),
            files["file"].stream,
            files["file"].filename,
            settings.upload_limit_bytes,
        )


@blp.route("/cases/<string:case_no>/files", methods=["POST"])
@blp.arguments(AttachSchema, location="multipart")
@blp.response(201, CaseFileSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.UPLOAD)
@accepts_uploads
def upload(body, case_no):
    """Attach a scan for a supplement (the accepting window, while a supplement is asked for).
    Streamed to storage; stored once by SHA-256."""
    settings = current_app.extensions["tongban.settings"]

    return take(
        case_no,
        attach,
        _store(),
        current_principal(),
        case_no,
        body["material_code"],
        body["file"].stream,
        body["file"].filename,
        settings.upload_limit_bytes,
    )


@blp.route("/cases/<string:case_no>/files", methods=["GET"])
@blp.response(200, CaseFileSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.READ_FILES)
def list_files(case_no):
    """The case's scans (both districts' staff and the accepting center's windows)."""
    case_no_var.set(case_no)
    return files_of(db_session(), current_principal(), case_no)


@blp.route(f"/cases/<string:case_no>/files/<{ID}:file_id>", methods=["GET"])
@blp.doc(security=BEARER_SECURITY, responses={200: {"description": "the file"}})
@requires(Permission.READ_FILES)
def download(case_no, file_id):
    """One scan; who downloaded what, and when, goes on the case's timeline."""

    row, stream = take(case_no, open_for_download, _store(), current_principal(), case_no, file_id)
    return send_file(
        stream,
        mimetype=row.content_type,
        as_attachment=True,
        download_name=safe_file_name(row.original_name),
    )


@blp.route("/cases/<string:case_no>/originals", methods=["POST"])
@blp.arguments(MailingSchema)
@blp.response(201, MailingOutSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.CASE_STEP)
def mail_originals(data, case_no):
    """The accepting window posted paper originals: carrier, tracking number, date."""
    return take(
        case_no,
        record_mailing,
        current_principal(),
        case_no,
        data["materials"],
        data["carrier"],
        data["tracking_no"],
        data["mailed_on"],
    )


@blp.route(f"/cases/<string:case_no>/originals/<{ID}:mailing_id>/arrived", methods=["POST"])
@blp.response(200, MailingOutSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.WORK_CASE)
def originals_arrived(case_no, mailing_id):
    """The responsible district received the originals."""
    return take(case_no, record_arrival, current_principal(), case_no, mailing_id)
