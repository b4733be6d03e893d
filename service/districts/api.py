"""District connectors for admins, signed callbacks from district systems, and metrics."""

import hmac
import ipaddress
import time

from flask import Response, current_app, request, send_file
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from catalog.districts import DISTRICT_NAMES
from service import policy
from service.accounts.auth import BEARER_SECURITY, current_principal, public, requires, signed
from service.audit import security_log
from service.cases.events import EventType
from service.cases.models import Case
from service.cases.timeline import append_event, district_system_actor
from service.clock import now_utc
from service.db import db_session
from service.districts.callbacks import (
    CallbackInvalid,
    CallbackSchema,
    NotDeliveredYet,
    apply_callback,
)
from service.districts.connectors import http_target
from service.districts.metrics import district_metrics, prometheus_text
from service.districts.models import DistrictConnector
from service.districts.payloads import LINK_SECONDS
from service.districts.signing import (
    CALLBACK,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    link_valid,
    verify,
)
from service.errors import Problem, flatten_messages
from service.guards import check_json_body
from service.materials.models import CaseFile
from service.materials.service import safe_file_name
from service.openapi import Blueprint
from service.outbox.models import OutboxMessage
from service.outbox.names import district_queue
from service.pagination import ID
from service.policy import Permission
from service.sealed import CONNECTOR_SECRET
from service.work import take

blp = Blueprint("districts", __name__, url_prefix="/api/v1", description="District systems")
metrics_bp = Blueprint("metrics", __name__)


class CallbackResultSchema(Schema):
    result = fields.String(metadata={"description": "applied, duplicate, stale or acknowledged"})
    case_no = fields.String()
    status = fields.String()


class ConnectorSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["internal", "http"]))
    endpoint = fields.Url(
        load_default=None,
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=500),
    )
    status_endpoint = fields.Url(
        load_default=None,
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=500),
    )
    secret = fields.String(
        load_default=None,
        load_only=True,
        validate=validate.Length(min=16, max=200),
        metadata={"description": "shared HMAC secret; write-only, kept if omitted"},
    )
    connect_timeout = fields.Float(load_default=3.0, validate=validate.Range(min=0.1, max=30))
    read_timeout = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=120))

    @validates_schema
    def _http_needs_endpoint(self, data, **kwargs):
        if data["kind"] == "http" and not data.get("endpoint"):
            raise ValidationError({"endpoint": ["Required for an HTTP connector."]})
        # Deliveries carry ID numbers in clear: outside development they travel over TLS only.
        if current_app.extensions["tongban.settings"].env == "production":
            for name in ("endpoint", "status_endpoint"):
                if (data.get(name) or "https:").split(":")[0] != "https":
                    raise ValidationError({name: ["Must be https in production."]})


class DistrictPauseSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class DistrictStateSchema(Schema):
    code = fields.String()
    name = fields.String()
    connector = fields.String()
    endpoint = fields.String(allow_none=True)
    status_endpoint = fields.String(allow_none=True)
    paused = fields.Boolean()
    paused_reason = fields.String(allow_none=True)
    breaker = fields.String()
    backlog = fields.Integer()
    dead_letters = fields.Integer()
    deliveries_total = fields.Integer()
    failures_total = fields.Integer()
    last_error = fields.String(allow_none=True)
    latency_p50_seconds = fields.Float(allow_none=True)
    latency_p95_seconds = fields.Float(allow_none=True)


def _ext(name: str):
    return current_app.extensions[f"tongban.{name}"]


def _unknown_district(code: str) -> Problem:
    return Problem(
        404, "not-found", "Not found", f"No district {code}.", detail_zh="未找到该行政区。"
    )


def _event(body) -> dict:
    try:
        if not isinstance(body, dict):
            raise ValidationError({"body": ["Send a JSON object."]})
        return CallbackSchema().load(body)
    except ValidationError as err:
        raise Problem(
            422,
            "validation-error",
            "Request validation failed",
            "The body is not a district event.",
            errors=flatten_messages(err.normalized_messages()),
        ) from err


def _state(code: str) -> dict:
    return next(r for r in district_metrics(db_session()) if r["code"] == code)


@blp.route("/districts/<string:code>/callbacks", methods=["POST"])
@blp.response(200, CallbackResultSchema)
@blp.problem(422, "Body is not an event (checked after the signature)")
@blp.problem(401, "Signature missing, wrong or outside the replay window")
@blp.problem(404, "No such district system, or not its case")
@signed
def callback(code):
    """A district system reports a step on one of its cases, signed with its shared secret.

    Body: {"event_id", "case_no", "type", "occurred_at", "data"}; types received, accepted,
    supplement_requested (data.materials), rejected (data.reason), completed (data.outcome,
    data.document_no). Headers: X-Tongban-Timestamp (unix seconds) and X-Tongban-Signature (hex
    HMAC-SHA256 of "callback.<timestamp>.<body>"). The signature is checked before anything
    else. Repeats of an event id change nothing; an older event never rolls a case back.
    """
    session = db_session()
    target = http_target(session, _ext("cipher"), code)
    if target is None:
        raise _unknown_district(code)
    why = verify(
        target.secret,
        CALLBACK,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        request.get_data(cache=True),
        int(time.time()),
    )
    if why:
        raise Problem(401, "bad-signature", "Signature refused", why, detail_zh="签名校验失败。")
    check_json_body()
    event = _event(request.get_json(silent=True))

    try:
        result, case = take(event["case_no"], apply_callback, code, event)
    except NotDeliveredYet as err:
        raise Problem(
            409,
            "not-delivered-yet",
            "The case is still on its way to you",
            "Send this event again in a moment; nothing was recorded.",
            detail_zh="办件尚在传送中，请稍后重发。",
        ) from err
    except CallbackInvalid as err:
        raise Problem(
            422,
            "validation-error",
            "Request validation failed",
            "The event's data do not fit its type.",
            errors=flatten_messages({"data": err.messages}),
        ) from err
    return {"result": result, "case_no": case.case_no, "status": case.status}


@blp.route(f"/districts/<string:code>/files/<{ID}:file_id>")
@blp.doc(responses={200: {"description": "the scan"}})
@public
def district_file(code, file_id):
    """A scan, for the district system the case was delivered to, by the signed link in the
    delivery (expires, signature = HMAC of "file.<expires>.<file id>"). Logged on the timeline."""
    session = db_session()
    target = http_target(session, _ext("cipher"), code)
    genuine = target is not None and link_valid(
        target.secret,
        file_id,
        request.args.get("expires", ""),
        request.args.get("signature"),
        int(time.time()),
        LINK_SECONDS,
    )
    row = session.get(CaseFile, file_id) if genuine else None
    case = row and session.get(Case, row.case_id, with_for_update=True)
    if case is None or case.responsible_district != code:
        raise Problem(404, "not-found", "Not found", "No such file, or the link has expired.")
    if row.removed_at is not None:
        raise Problem(410, "gone", "Gone", "The file was removed after its retention period.")
    append_event(
        session,
        case,
        type=EventType.FILE_DOWNLOADED,
        status_to=case.status,
        actor=district_system_actor(code),
        at=now_utc(),
        data={"file_id": row.id, "material": row.material_code},
    )
    security_log.record(
        session,
        "file.download",
        target_type="case_file",
        target=f"{case.case_no}/{row.id}",
        district_code=code,
        details={"material": row.material_code, "by": "district_system"},
    )
    session.commit()
    return send_file(
        _ext("files").open(row.sha256),
        mimetype=row.content_type,
        download_name=safe_file_name(row.original_name),
    )


def _connector_view(row: DistrictConnector) -> dict:
    """A connector as the security log shows it: never its secret, only whether it has one;
    addresses without credentials or query strings."""
    return {
        "kind": row.kind,
        "endpoint": security_log.mask_url(row.endpoint),
        "status_endpoint": security_log.mask_url(row.status_endpoint),
        "connect_timeout": row.connect_timeout,
        "read_timeout": row.read_timeout,
        "signing": "set" if row.secret_enc is not None else "none",
    }


def _record(action: str, code: str, details: dict) -> None:
    """Who changed which district's delivery setting: the security log, same transaction."""
    security_log.record(
        db_session(),
        action,
        target_type="district",
        target=code,
        district_code=code,
        details=details,
    )


@blp.route("/admin/districts", methods=["GET"])
@blp.response(200, DistrictStateSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.VIEW_DISTRICTS)
def list_districts():
    """Every district's connector, pause, breaker, backlog, dead letters and latency."""
    return district_metrics(db_session())


def _connector(code: str) -> DistrictConnector:
    """The district's connector row, locked, if this admin manages the district (else 404)."""
    if code not in DISTRICT_NAMES or not policy.manages_district(current_principal(), code):
        raise _unknown_district(code)
    session = db_session()
    # Two first-time changes at once: one inserts, the other finds the row.
    session.execute(insert(DistrictConnector).values(district_code=code).on_conflict_do_nothing())
    return session.get(DistrictConnector, code, with_for_update=True, populate_existing=True)


@blp.route("/admin/districts/<string:code>/connector", methods=["PUT"])
@blp.arguments(ConnectorSchema)
@blp.response(200, DistrictStateSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.MANAGE_DISTRICT)
def set_connector(data, code):
    """Serve the district from Tongban's back office, or from its own system over HTTP.

    Takes effect with the next delivery; nothing restarts.
    """
    row = _connector(code)
    before = _connector_view(row)
    if data["kind"] == "http" and data["secret"] is None and row.secret_enc is None:
        raise Problem(
            422,
            "validation-error",
            "Request validation failed",
            "An HTTP connector needs a shared secret.",
            errors=[{"field": "secret", "messages": ["Required the first time."]}],
        )
    row.kind, row.endpoint, row.status_endpoint = (
        data["kind"],
        data["endpoint"],
        data["status_endpoint"],
    )
    row.connect_timeout, row.read_timeout = data["connect_timeout"], data["read_timeout"]
    if data["secret"] is not None:
        row.secret_enc = _ext("cipher").encrypt(data["secret"], CONNECTOR_SECRET, code)
    row.breaker_state, row.breaker_failures, row.breaker_opened_at = "closed", 0, None
    _record(
        "district.connector_change",
        code,
        {
            "before": before,
            "after": _connector_view(row),
            "signing_changed": data["secret"] is not None,
        },
    )
    db_session().commit()
    return _state(code)


@blp.route("/admin/districts/<string:code>/pause", methods=["POST"])
@blp.arguments(DistrictPauseSchema)
@blp.response(200, DistrictStateSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.MANAGE_DISTRICT)
def pause(data, code):
    """Hold every delivery to the district (maintenance, an incident) without losing any."""
    row = _connector(code)
    row.paused, row.paused_reason, row.paused_by = True, data["reason"], current_principal().name
    _record("district.pause", code, {"reason": data["reason"]})
    db_session().commit()
    return _state(code)


@blp.route("/admin/districts/<string:code>/resume", methods=["POST"])
@blp.response(200, DistrictStateSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.MANAGE_DISTRICT)
def resume(code):
    """Deliver again; what waited goes out at once."""
    row = _connector(code)
    row.paused, row.paused_reason, row.paused_by = False, None, None
    _record("district.resume", code, {})
    session = db_session()
    session.commit()  # release the connector row before touching messages workers may hold
    waiting = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.queue == district_queue(code))
        .with_for_update(skip_locked=True)
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(waiting.scalar_subquery()))
        .values(next_attempt_at=now_utc())
    )
    session.commit()
    return _state(code)


def _may_scrape() -> bool:
    """A scraper presents the metrics token, or comes from an allowed network (by default the
    host itself): the figures show every district's backlog, pauses and breakers."""
    settings = _ext("settings")
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if settings.metrics_token and scheme.lower() == "bearer":
        return hmac.compare_digest(presented.strip().encode(), settings.metrics_token.encode())
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in settings.metrics_allow)


@metrics_bp.route("/metrics")
def metrics():
    """Prometheus text format: per-district backlog, dead letters, breaker, totals, latency."""
    if not _may_scrape():
        raise Problem(
            401,
            "unauthorized",
            "Authentication required",
            "Send 'Authorization: Bearer <TONGBAN_METRICS_TOKEN>' or scrape from an allowed "
            "network (TONGBAN_METRICS_ALLOW).",
            headers={"WWW-Authenticate": 'Bearer realm="tongban-metrics"'},
        )
    body = prometheus_text(district_metrics(db_session()))
    return Response(body, mimetype="text/plain; version=0.0.4")
