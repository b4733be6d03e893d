"""What the pages show: personal data masked, scans only to those who may read them, the
queue's and the supervisor's lists, the receipt's wording, the timeline's labels, and which
steps are offered."""

from pathlib import Path

from tests.helpers import event_types, scalar
from tests.web.pages import (
    case_form,
    post_supplement,
    request_supplement,
    window_client,
)

SERVICE = Path(__file__).resolve().parents[2] / "service"


def test_a_stale_supplement_form_attaches_nothing(app, migrated, fumin_case, settings, engine):
    request_supplement(app, migrated, settings, fumin_case)
    window = window_client(app, migrated)
    read = int(case_form(window, fumin_case)["version"])
    response = post_supplement(window, fumin_case, version=str(read - 1))
    assert response.status_code == 409
    assert "办件已被他人更新" in response.get_data(as_text=True)
    assert "file_attached" not in event_types(engine, fumin_case)
    files = scalar(
        engine,
        "SELECT count(*) FROM case_files f JOIN cases c ON c.id = f.case_id WHERE c.case_no = :n",
        n=fumin_case,
    )
    assert files == 0
    # The current form goes through, scans and all.
    response = post_supplement(window, fumin_case)
    assert response.status_code == 303
    assert "file_attached" in event_types(engine, fumin_case)
