"""The staff and window pages: blueprints, session cookies, CSRF, page errors, headers."""

from datetime import datetime, timedelta

from flask import Blueprint, Flask, g, redirect, request, url_for

from service.clock import to_local
from service.errors import http_problem, problem_response
from service.web.auth import home_of, signed_in
from service.web.blueprints import HTTP_PAGES, page_error
from service.web.csrf import csrf_token
from service.web.forms import summary_zh

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

PAGE_PREFIXES = ("/window", "/office", "/cases", "/supervisor", "/reports", "/login", "/logout")

# Pages load only what the app serves itself (closed networks); inline SVG charts need no script.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; "
    "base-uri 'none'"
)


@bp.get("/")
def index():
    """Start page: the signed-in user's own page, or the login."""
    principal = signed_in()
    return redirect(home_of(principal) if principal else url_for("login.staff"))


def _local(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time shown in Asia/Shanghai; ISO strings from reports too."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if getattr(value, "tzinfo", None) is None:
        return value.strftime(fmt)
    return to_local(value).strftime(fmt)


def init_app(app: Flask) -> None:
    """Register the pages on the app."""
    from service.web.auditor.views import bp as auditor_bp
    from service.web.casepage.views import bp as case_bp
    from service.web.login.views import bp as login_bp
    from service.web.office.views import bp as office_bp
    from service.web.supervisor.views import bp as supervisor_bp
    from service.web.window.views import bp as window_bp

    settings = app.extensions["tongban.settings"]
    app.config.update(
        SESSION_COOKIE_NAME="tongban_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.staff_token_ttl_hours),
    )
    pages = (login_bp, window_bp, office_bp, case_bp, supervisor_bp, auditor_bp)
    for blueprint in pages:
        app.register_blueprint(blueprint)
    app.register_blueprint(bp)
    names = {b.name for b in pages} | {bp.name}

    @app.after_request
    def _page_headers(response):
        if request.blueprint in names:
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            if response.mimetype == "text/html":
                response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _unrouted(err):
        # No blueprint matched, so the pages' own handlers cannot answer: pick by the path.
        if request.path.startswith(PAGE_PREFIXES):
            return page_error(err.code, *HTTP_PAGES[err.code])
        return problem_response(http_problem(err))

    for code in (404, 405):
        app.register_error_handler(code, _unrouted)

    app.jinja_env.globals.update(csrf_token=csrf_token)
    app.jinja_env.filters["local"] = _local
    app.jinja_env.filters["error_lines"] = summary_zh
    app.jinja_env.globals["g"] = g
