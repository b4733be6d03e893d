"""Liveness (/healthz: the process answers) and readiness (/readyz: DB and broker reachable)."""

import logging

import redis
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from service.db import get_db

bp = Blueprint("health", __name__)
log = logging.getLogger("tongban.health")


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks: dict[str, str] = {}
    try:
        with get_db().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the reason goes to the log
        log.warning("database not ready", extra={"error": type(exc).__name__})
        checks["database"] = "unavailable"
    try:
        current_app.extensions["tongban.redis"].ping()
        checks["broker"] = "ok"
    except (redis.RedisError, OSError) as exc:
        log.warning("broker not ready", extra={"error": type(exc).__name__})
        checks["broker"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def init_app(app: Flask, redis_url: str) -> None:
    app.extensions["tongban.redis"] = redis.Redis.from_url(
        redis_url, socket_timeout=2, socket_connect_timeout=2
    )
    app.register_blueprint(bp)
