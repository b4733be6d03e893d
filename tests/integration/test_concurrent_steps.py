"""Two steps on one case at once, on real transactions: the row lock and the version let one
win and answer the other 409. Not a rule test: it needs two sessions that really wait on each
other, which one rolled-back connection cannot give."""

import threading

from tests.helpers import act, application, deliver_inline, event_types, read_case, submit


def test_concurrent_conflicting_steps_one_wins(app, migrated, settings, terminal, staff, engine):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    client = app.test_client()
    case_no = submit(client, window, application()).get_json()["case_no"]
    deliver_inline(migrated, settings, case_no)
    assert event_types(engine, case_no) == ["submitted", "forwarded", "received"]
    version = read_case(client, clerk, case_no)["version"]
    results = []

    def step(name, **body):
        results.append(act(app.test_client(), clerk, case_no, name, version=version, **body))

    threads = [
        threading.Thread(target=step, args=("accept",)),
        threading.Thread(target=step, args=("reject",), kwargs={"reason": "材料不全"}),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 409]
    assert event_types(engine, case_no)[-1] in ("accept", "reject")
    assert len(event_types(engine, case_no)) == 4
