"""The working-day calendar: which years have official data, and importing a new year."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from catalog.tabular import FileFormatError, read_csv
from service.accounts.auth import BEARER_SECURITY, accepts_uploads, current_principal, requires
from service.audit import security_log
from service.clock import local_today
from service.clocks.store import CalendarImportError, import_year, known_years
from service.db import db_session
from service.errors import Problem
from service.openapi import Blueprint
from service.policy import Permission
from service.uploads import read_upload, rows_problem, unreadable

blp = Blueprint("calendar", __name__, url_prefix="/api/v1", description="Working-day calendar")


class YearSchema(Schema):
    year = fields.Integer()
    source = fields.String()
    imported_by = fields.String(allow_none=True)
    imported_at = fields.DateTime(allow_none=True)


class CalendarFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={"description": "CSV with columns 日期, 类型 (放假 or 上班) and 名称"},
    )


class YearImportedSchema(Schema):
    year = fields.Integer()
    holidays = fields.Integer()
    workdays = fields.Integer()
    recomputed = fields.Integer(metadata={"description": "provisional deadlines counted again"})


@blp.route("/calendar/years", methods=["GET"])
@blp.response(200, YearSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.ANY)
def list_years():
    """Years with official holiday data; deadlines outside them are provisional."""
    return known_years(db_session())


@blp.route("/admin/calendar/years/<int:year>", methods=["PUT"])
@blp.arguments(CalendarFileSchema, location="files")
@blp.response(200, YearImportedSchema)
@blp.problem(422, "every error in the file, by row and column")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.IMPORT_CALENDAR)
@accepts_uploads
def import_calendar_year(files, year):
    """Import a year's official holidays and 调休 workdays, as the State Council announced them.

    Replaces whatever Tongban knew of that year and recomputes every provisional deadline.
    """
    if not 2004 <= year <= local_today().year + 2:
        raise Problem(
            422,
            "validation-error",
            "Request validation failed",
            "Official calendars exist from 2004 and are announced a year ahead at most.",
            detail_zh="年份超出范围。",
            errors=[{"field": "year", "messages": ["Out of range."]}],
        )
    session = db_session()
    try:
        data = read_upload(files["file"])
        result = import_year(
            session,
            year,
            read_csv(data, files["file"].filename or "calendar.csv"),
            by=current_principal().name,
            source=files["file"].filename or "upload",
        )
    except FileFormatError as err:
        raise unreadable(err) from err
    except CalendarImportError as err:
        session.rollback()
        raise rows_problem(err.errors) from err
    security_log.record(
        session,
        "calendar.import",
        target_type="calendar_year",
        target=str(year),
        district_code=None,
        details={"file": (files["file"].filename or "upload")[:200]},
    )
    session.commit()
    return result.__dict__
