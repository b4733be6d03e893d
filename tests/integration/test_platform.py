"""Health, readiness, OpenAPI, the local docs page, and errors for any path or body."""

import re

from tests.helpers import redis_down, submit


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readiness_reports_a_broker_that_is_down(app, client, monkeypatch):
    monkeypatch.setitem(app.extensions, "tongban.redis", redis_down())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["broker"] == "unavailable"


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/applications" in spec["paths"]
    assert "/api/v1/applications/{case_no}" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_docs_page_uses_only_local_assets(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/api/v1/docs/assets/") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200
    assert "http://" not in page and "https://" not in page


def test_unknown_path_and_method_are_problems(client):
    unknown, wrong_method = client.get("/api/v1/nothing"), client.put("/api/v1/applications")
    assert (unknown.status_code, wrong_method.status_code) == (404, 405)
    for response in (unknown, wrong_method):
        assert response.content_type == "application/problem+json"


def test_malformed_and_wrongly_shaped_bodies_are_problems(client, terminal):
    fm = terminal("FM-01")
    headers = {**fm, "Idempotency-Key": "k-malformed", "Content-Type": "application/json"}
    broken = client.post("/api/v1/applications", data="{not json", headers=headers)
    assert broken.status_code == 400  # not JSON at all; JSON of the wrong shape is a 422
    assert broken.content_type == "application/problem+json"
    for body in ([], "text", 3, None, {"applicant": "x", "facts": [], "materials": {}}):
        response = submit(client, fm, body)
        assert response.status_code == 422, body
        assert response.content_type == "application/problem+json"


def test_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


def test_a_database_that_cannot_be_reached_is_a_503_to_retry(settings, terminal):
    import dataclasses

    from ops.embedded import free_port
    from service.app import create_app

    nowhere = f"postgresql://tongban@127.0.0.1:{free_port()}/tongban"  # nothing listens there
    app = create_app(dataclasses.replace(settings, database_url=nowhere))
    response = app.test_client().get("/api/v1/queue", headers=terminal("FM-01"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.content_type == "application/problem+json"
    assert "未保存" in response.get_json()["detail_zh"]
    assert app.test_client().get("/readyz").status_code == 503
