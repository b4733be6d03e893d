"""The Flask application factory."""

import logging
import re
import time
import uuid

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from service import cli, db, errors, guards, health, logs, wiring
from service.accounts.admin_api import blp as accounts_admin_blp
from service.accounts.api import blp as auth_blp
from service.accounts.auth import gate
from service.audit import chain, checkpoint
from service.casework.api import blp as cases_blp
from service.casework.public_api import blp as public_blp
from service.catalog_api.admin_api import blp as catalog_admin_blp
from service.catalog_api.api import blp as catalog_blp
from service.clocks.api import blp as calendar_blp
from service.config import Settings, load_settings
from service.crypto import FieldCipher
from service.districts.api import blp as districts_blp
from service.districts.api import metrics_bp
from service.districts.dead_letters_api import blp as dead_letters_blp
from service.materials.api import blp as materials_blp
from service.materials.storage import open_store
from service.openapi import Api
from service.outbox.policy import DeliveryPolicy
from service.outbox.publisher import Publisher
from service.ratings.api import blp as ratings_blp
from service.stats.api import blp as stats_blp
from service.uploads import request_limit_bytes
from service.web.docs import DOCS_ASSETS_URL
from service.web.docs import bp as docs_bp
from service.web.setup import init_app as init_pages

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("tongban.access")


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    logs.configure(settings.log_level)
    app = Flask(__name__)
    if settings.proxy_hops:
        # Behind that many reverse proxies the client is in X-Forwarded-For; trusting the header
        # without a proxy would let anyone pick the address the look-up limit counts.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    app.json.ensure_ascii = False
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # The largest of any route's limits; each request gets its route's own (accounts.auth).
        MAX_CONTENT_LENGTH=request_limit_bytes(settings.upload_limit_bytes),
        API_TITLE="Tongban 通办",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS_URL,
    )
    app.extensions["tongban.settings"] = settings
    app.extensions["tongban.cipher"] = FieldCipher.from_settings(settings)
    app.extensions["tongban.files"] = open_store(settings)
    app.extensions["tongban.policy"] = DeliveryPolicy.from_settings(settings)
    app.extensions["tongban.publisher"] = Publisher(settings.redis_url)
    app.extensions["tongban.checkpoints"] = checkpoint.Book.from_settings(settings)
    wiring.install()
    chain.use_key(settings.chain_key)
    db.init_app(app, settings)
    health.init_app(app, settings.redis_url)

    api = Api(
        app,
        spec_kwargs={
            "info": {"description": "Cross-district government-service routing (跨区通办)."}
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "terminal key or staff token"},
    )
    for blueprint in (
        auth_blp,
        accounts_admin_blp,
        catalog_blp,
        catalog_admin_blp,
        calendar_blp,
        cases_blp,
        public_blp,
        materials_blp,
        ratings_blp,
        districts_blp,
        stats_blp,
        dead_letters_blp,
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(docs_bp)
    app.register_blueprint(metrics_bp)
    init_pages(app)
    # Registered after the Api so that every error, smorest's included, is problem+json.
    errors.init_app(app)
    _request_context(app)
    guards.init_app(app)
    cli.init_app(app)
    return app


def _request_context(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()
        # Closed at teardown, so nothing logged after this request carries its ids.
        g.log_context = logs.open_context(request_id=g.request_id)
        # Before any other hook or view reads headers or body: see accounts.auth.
        gate()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.path.startswith("/api/") and request.endpoint != "docs_assets.asset":
            # Answers may carry personal data: no cache keeps them, no browser guesses a type.
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Content-Type-Options"] = "nosniff"
        principal = g.get("principal")
        # The path only, never the query string: look-ups may carry personal data there.
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 1),
                "principal": principal.log_id if principal else None,
                # Where the request came from (the client, once ProxyFix read the configured
                # proxy hops): an address of a terminal or staff network, not an applicant's.
                "remote_addr": request.remote_addr,
            },
        )
        return response

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        logs.close_context(g.pop("log_context", None))
