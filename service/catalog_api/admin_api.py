"""Catalog administration: the template, export, and import with a dry run.

Imports are all-or-nothing: a file with any error changes nothing and the answer lists every
error by sheet, row and column, in Chinese, for the person fixing the file.
"""

import logging
from io import BytesIO

from flask import send_file

from catalog.exporter import MEDIA_TYPES, export_catalog, template
from catalog.importer import CatalogImportError, import_catalog
from catalog.tabular import FileFormatError, read_catalog
from service.accounts.auth import BEARER_SECURITY, accepts_uploads, current_principal, requires
from service.audit import security_log
from service.catalog_api.schemas import (
    ExportQuerySchema,
    FormatQuerySchema,
    ImportFileSchema,
    ImportQuerySchema,
    ImportReportSchema,
)
from service.clock import local_today
from service.db import db_session
from service.openapi import Blueprint
from service.policy import Permission
from service.uploads import read_upload, rows_problem, unreadable

blp = Blueprint(
    "catalog_admin", __name__, url_prefix="/api/v1/admin/catalog", description="Catalog admin"
)
log = logging.getLogger("tongban.catalog")


def _download(data: bytes, fmt: str, stem: str):
    return send_file(
        BytesIO(data),
        mimetype=MEDIA_TYPES[fmt],
        as_attachment=True,
        download_name=f"{stem}.{'xlsx' if fmt == 'xlsx' else 'zip'}",
    )


@blp.route("/template", methods=["GET"])
@blp.arguments(FormatQuerySchema, location="query")
@blp.doc(security=BEARER_SECURITY, responses={200: {"description": "the empty catalog file"}})
@requires(Permission.EXPORT_CATALOG)
def download_template(query):
    """An empty catalog file: the sheets, the Chinese headers, and 填写说明."""
    return _download(template(query["format"]), query["format"], "tongban-catalog-template")


@blp.route("/export", methods=["GET"])
@blp.arguments(ExportQuerySchema, location="query")
@blp.doc(security=BEARER_SECURITY, responses={200: {"description": "the catalog file"}})
@requires(Permission.EXPORT_CATALOG)
def export(query):
    """The whole catalog as in force on a day (today by default), in the import layout."""
    day = query["on"] or local_today()
    session = db_session()
    data = export_catalog(session, day, query["format"])
    security_log.record(
        session,
        "catalog.export",
        target_type="catalog",
        target=day.isoformat(),
        district_code=None,
        details={"format": query["format"]},
    )
    session.commit()
    return _download(data, query["format"], f"tongban-catalog-{day.isoformat()}")


@blp.route("/imports", methods=["POST"])
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportReportSchema)
@blp.problem(422, "every error in the file, by sheet, row and column")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.IMPORT_CATALOG)
@accepts_uploads
def import_file(query, files):
    """Import an XLSX workbook or a zip of CSV files; `dry_run=true` only reports.

    Changed items get a new version effective from `effective_from` (today by default); cases
    keep the version they were accepted under.
    """
    upload = files["file"]
    data = read_upload(upload)
    principal = current_principal()
    session = db_session()
    try:
        report = import_catalog(
            session,
            read_catalog(data),
            effective_from=query["effective_from"] or local_today(),
            dry_run=query["dry_run"],
            source=f"{upload.filename or 'upload'} by {principal.name}"[:200],
        )
    except FileFormatError as err:
        raise unreadable(err) from err
    except CatalogImportError as err:
        session.rollback()
        raise rows_problem(err.errors) from err
    if query["dry_run"]:
        session.rollback()
    else:
        security_log.record(
            session,
            "catalog.import",
            target_type="catalog",
            target=(upload.filename or "upload")[:200],
            district_code=None,
            details={"effective_from": str(query["effective_from"] or local_today())},
        )
        session.commit()
    log.info(
        "catalog import",
        extra={
            "dry_run": query["dry_run"],
            "file": upload.filename,
            "by": principal.name,
            "changes": report.changes,
        },
    )
    return report.as_dict()
