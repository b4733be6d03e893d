"""The queue page's query can use its indexes (migration 0008): a district's cases newest
first, and the open deadlines in a due state. Checked on the plan, not on a clock: with
sequential scans priced out, PostgreSQL must name the index for the statement the API runs."""

from sqlalchemy import event

from tests.helpers import application, submit


def _queue_statement(client, engine, headers, params):
    """The SQL (and its parameters) of the queue page's case query."""
    seen = []

    def keep(_conn, _cursor, statement, parameters, *_args):
        if "FROM cases" in statement and "ORDER BY cases.created_at DESC" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        response = client.get("/api/v1/queue", headers=headers, query_string=params)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert response.status_code == 200, response.get_json()
    assert len(seen) == 1
    return seen[0]


def _plan(engine, statement, parameters) -> str:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())
    finally:
        raw.rollback()
        raw.close()


def test_queue_pages_use_the_queue_indexes(app, client, terminal, staff):
    engine = app.extensions["tongban.db"].engine  # the app's own engine runs the page
    submit(client, terminal("FM-01"), application())
    clerk = staff("clerk", "530102")
    newest_first = _plan(engine, *_queue_statement(client, engine, clerk, {}))
    assert "ix_cases_responsible_created" in newest_first
    overdue = _plan(engine, *_queue_statement(client, engine, clerk, {"due": "overdue"}))
    assert "ix_deadlines_open_due_state" in overdue
