"""A client nobody here wrote can use the API: openapi-python-client generates one from the
document a real server serves, and it submits an application, reads the case back and gets a
422 problem with its fields, every answer parsed into the declared models."""

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from ops.embedded import free_port
from tests.helpers import application, with_wrong_check_digit
from tests.processes import ApiServer

PACKAGE = "tongban_client"
# No post-generation hooks: they would run ruff from PATH, which a test cannot count on.
CONFIG = f"project_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\npost_hooks: []\n"


@pytest.fixture(scope="module")
def api(settings, migrated, tmp_path_factory):
    server = ApiServer(tmp_path_factory.mktemp("api"), free_port(), workers=1)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client_package(api, tmp_path_factory):
    """The generated client, imported from a temporary directory."""
    where = tmp_path_factory.mktemp("client")
    document = where / "openapi.json"
    document.write_bytes(httpx.get(f"{api.url}/api/v1/openapi.json", timeout=10).content)
    (where / "config.yml").write_text(CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [str(generator), "generate", "--path", str(document), "--config", "config.yml",
         "--meta", "none", "--output-path", PACKAGE],
        cwd=where, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    # A warning means part of the document could not be turned into code.
    assert "Warning" not in done.stdout, done.stdout
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_generated_client_submits_reads_and_gets_a_problem(api, client_package, terminal):
    api_module = importlib.import_module(f"{PACKAGE}.api.cases")
    submit = importlib.import_module(f"{api_module.__name__}.post_api_v1_applications")
    read = importlib.import_module(f"{api_module.__name__}.get_api_v1_applications_case_no")
    models = importlib.import_module(f"{PACKAGE}.models")
    key = terminal("FM-01")["Authorization"].removeprefix("Bearer ")
    client = client_package.AuthenticatedClient(base_url=api.url, token=key)

    created = submit.sync_detailed(
        client=client,
        body=models.Application.from_dict(application()),
        idempotency_key=uuid.uuid4().hex,
    )
    assert created.status_code == 201, created.content
    new_case = created.parsed
    assert isinstance(new_case, models.NewCase)
    assert new_case.query_code and new_case.status == "submitted"
    assert created.headers["Location"].endswith(new_case.case_no)

    case = read.sync(case_no=new_case.case_no, client=client)
    assert isinstance(case, models.Case)
    assert case.case_no == new_case.case_no
    assert case.item.code == application()["item_code"]
    assert case.responsible_district.code == "530102"
    assert case.applicant.id_number.count("*") >= 8
    assert [m.code for m in case.materials] == ["M01", "M03", "M04"]
    assert case.timeline[0].actor.kind == "terminal"

    wrong = application()
    wrong["applicant"]["id_number"] = with_wrong_check_digit(wrong["applicant"]["id_number"])
    refused = submit.sync_detailed(
        client=client,
        body=models.Application.from_dict(wrong),
        idempotency_key=uuid.uuid4().hex,
    )
    assert refused.status_code == 422
    problem = refused.parsed
    assert isinstance(problem, models.Problem)
    assert problem.status == 422 and problem.type_.endswith("/validation-error")
    assert problem.detail_zh
    assert [e.field for e in problem.errors] == ["applicant.id_number"]
    assert problem.request_id == refused.headers["X-Request-ID"]
