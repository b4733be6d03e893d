"""The OpenAPI document is a contract: it validates, and real answers match what it declares."""

import io
import re
import uuid

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator.validation.validators import OpenAPIV30SpecValidator

from service.casework.api import STEPS
from service.openapi import PROBLEM_MEDIA_TYPE
from tests.helpers import act, application, submit

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/api/v1/openapi.json").get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def _response(spec: dict, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def _declared(spec: dict, method: str, path: str, status: int) -> tuple[str, dict]:
    """The media type and schema the document declares for this operation and status."""
    operation = spec["paths"][path][method]
    response = _response(spec, operation["responses"][str(status)])
    ((media_type, content),) = response["content"].items()
    return media_type, content["schema"]


def _check(spec: dict, schema: dict, body) -> None:
    # The schema's $refs point into the document: validate with the components beside it.
    OAS30Validator({**schema, "components": spec["components"]}).validate(body)


def test_the_document_is_valid_openapi_3_0(spec):
    errors = [e.message for e in OpenAPIV30SpecValidator(spec).iter_errors()]
    assert errors == []
    assert spec["openapi"] == "3.0.3"


def test_every_error_is_declared_as_a_problem_document(spec):
    # flask-smorest's own error schema (code/status/message/errors{}) is not what is sent.
    assert "Error" not in spec["components"]["schemas"]
    for method, path, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if status == "414":
                # gunicorn refuses an over-long request line itself, before the app: HTML.
                assert list(_response(spec, response)["content"]) == ["text/html"]
                assert "X-Request-ID" not in _response(spec, response).get("headers", {})
                continue
            if status == "default" or int(status) >= 400:
                content = _response(spec, response)["content"]
                assert list(content) == [PROBLEM_MEDIA_TYPE], (method, path, status)
                assert content[PROBLEM_MEDIA_TYPE]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
            assert "X-Request-ID" in _response(spec, response)["headers"], (method, path, status)


def test_every_case_step_is_its_own_documented_operation(spec):
    summaries = set()
    for action in STEPS:
        operation = spec["paths"][f"/api/v1/cases/{{case_no}}/{action.value.replace('_', '-')}"][
            "post"
        ]
        summaries.add(operation["summary"])
        assert {"200", "400", "401", "403", "404", "409", "413", "422"} <= set(
            operation["responses"]
        ), action
        body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body.rsplit("/", 1)[1] != "Action", action
    assert len(summaries) == len(STEPS)


def test_submit_documents_location_and_replay_headers(spec):
    headers = spec["paths"]["/api/v1/applications"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "Idempotent-Replayed", "X-Request-ID"} <= set(headers)
    looked_up = spec["paths"]["/api/v1/public/cases/{case_no}"]["get"]["responses"]["429"]
    assert "Retry-After" in looked_up["headers"]


def test_case_outputs_have_no_bare_objects(spec):
    """Every object in a case answer says what it holds, except an event's recorded data."""
    schemas = spec["components"]["schemas"]
    for name in ("Case", "NewCase", "QueueEntry"):
        for field, prop in schemas[name]["properties"].items():
            item = prop.get("items", prop)
            assert item.get("type") != "object" or "properties" in item, (name, field)


@pytest.fixture
def scan():
    return b"%PDF-1.4\n" + b"0" * 64


def test_real_answers_match_the_declared_schemas(spec, client, terminal, staff, settings):
    """Answers of each error status (and a case) validated against what the operation says."""
    window = terminal("FM-01")
    case_path = "/api/v1/applications/{case_no}"
    created = submit(client, window, application(), key=f"contract-{uuid.uuid4().hex}")
    case_no = created.get_json()["case_no"]
    reused_key = f"reused-{uuid.uuid4().hex}"
    submit(client, window, application(), key=reused_key)
    oversized = "x" * (256 * 1024 + 1)
    answers = [
        ("post", "/api/v1/applications", 201, created),
        ("get", case_path, 200, client.get(f"/api/v1/applications/{case_no}", headers=window)),
        ("get", case_path, 401, client.get(f"/api/v1/applications/{case_no}")),
        ("post", "/api/v1/applications", 403, submit(client, staff("clerk", "530124"), {})),
        ("get", case_path, 404, client.get("/api/v1/applications/530124-20200101-99999",
                                           headers=window)),
        ("post", "/api/v1/applications", 409, submit(client, window, application(note="other"),
                                                     key=reused_key)),
        ("post", "/api/v1/applications", 413, client.post(
            "/api/v1/applications", data=oversized, content_type="application/json",
            headers={**window, "Idempotency-Key": "k-too-large"})),
        ("post", "/api/v1/applications", 422, submit(client, window, application(
            applicant={"name": "x"}))),
        ("post", "/api/v1/applications", 422, submit(client, window, application(materials=[]))),
        ("post", "/api/v1/cases/{case_no}/accept", 409, act(client, window, case_no, "accept")),
        ("post", "/api/v1/cases/{case_no}/files", 422, client.post(
            f"/api/v1/cases/{case_no}/files", headers=window,
            data={"material_code": ""}, content_type="multipart/form-data")),
    ]  # fmt: skip
    for method, path, status, response in answers:
        assert response.status_code == status, (path, response.get_json())
        media_type, schema = _declared(spec, method, path, status)
        assert response.mimetype == media_type, (path, status)
        _check(spec, schema, response.get_json())
        if status >= 400:
            assert response.get_json()["request_id"] == response.headers["X-Request-ID"]
    refused = answers[-3][3].get_json()
    assert {m["code"] for m in refused["materials"]} >= {"M01"}
    fields = {e["field"] for e in answers[-1][3].get_json()["errors"]}
    assert fields == {"material_code", "file"}


def test_a_scan_goes_in_one_multipart_body(spec, client, terminal, staff, engine, scan):
    """The case-file upload keeps its wire format: `material_code` and `file` in one body."""
    body = spec["paths"]["/api/v1/cases/{case_no}/files"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][schema]["required"]) == {"file", "material_code"}
    window = terminal("FM-01")
    case_no = submit(client, window, application()).get_json()["case_no"]
    response = client.post(
        f"/api/v1/cases/{case_no}/files",
        headers=window,
        data={"material_code": "M03", "file": (io.BytesIO(scan), "a.pdf")},
        content_type="multipart/form-data",
    )
    # Not asked for a supplement: the step is refused for the case's state, not for the body.
    assert response.status_code == 409, response.get_json()
    assert re.search(r"/problems/", response.get_json()["type"])
