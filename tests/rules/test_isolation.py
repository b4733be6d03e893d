"""The rolled-back transaction itself: what the code under test commits is seen inside the test
and nowhere else, and nothing is published to the broker."""

from tests.helpers import application, scalar, status_of, submit

CASES_NAMED = "SELECT count(*) FROM cases WHERE case_no = :n"


def test_a_commit_inside_the_test_stays_inside_it(app, client, terminal, engine, migrated):
    response = submit(client, terminal("FM-01"), application())
    assert response.status_code == 201, response.get_json()
    case_no = response.get_json()["case_no"]
    assert status_of(engine, case_no) == "submitted"  # the app committed, in the test's view
    assert scalar(migrated.engine, CASES_NAMED, n=case_no) == 0  # another connection: nothing
    sent = app.extensions["tongban.publisher"].sent
    assert sent and {task for task, _id in sent} == {"tongban.deliver_case"}


def test_a_failed_step_is_rolled_back_to_its_savepoint(deliver, client, terminal, staff, engine):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    case_no = submit(client, window, application()).get_json()["case_no"]
    deliver(case_no)
    stale = {"version": 1, "reason": "材料不全"}
    refused = client.post(f"/api/v1/cases/{case_no}/reject", json=stale, headers=clerk)
    assert refused.status_code == 409 and refused.get_json()["type"].endswith("/version-conflict")
    # The test's transaction goes on: the refusal undid only its own work.
    assert status_of(engine, case_no) == "received"
