"""Swagger UI's files, served from the installed swagger-ui-bundle package, not a CDN."""

import swagger_ui_bundle
from flask import Blueprint, send_from_directory

DOCS_ASSETS_URL = "/api/v1/docs/assets/"

bp = Blueprint("docs_assets", __name__)


@bp.get(DOCS_ASSETS_URL + "<path:filename>")
def asset(filename: str):
    """One of Swagger UI's static files, cached a day (they change only with the package)."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
