"""The application's own database role: it works the tables but cannot rewrite the record,
even when someone takes over the application (issue 19: the audit trail)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.migrate import grant_app_role
from tests.helpers import application, submit

REFUSED = (
    "UPDATE case_events SET reason = 'x'",
    "DELETE FROM case_events",
    "TRUNCATE case_events",
    "ALTER TABLE case_events DISABLE TRIGGER case_events_append_only",
    "UPDATE security_events SET outcome = 'ok'",
    "TRUNCATE security_events",
    "UPDATE chain_cutover SET last_plain_event_id = 0",
    "DELETE FROM alembic_version",
    "CREATE TABLE intruder (id int)",
)


@pytest.fixture
def app_role(settings):
    """The role the app under test runs as: granted its rights by the suite's own migration,
    as `python -m service migrate` grants them in production (tests/conftest.py)."""
    assert settings.app_role and settings.migration_database_url != settings.database_url
    return settings.app_role


def _as_app(conn, statement: str) -> None:
    with conn.begin_nested():
        conn.execute(text(statement))


@pytest.fixture
def a_timeline(client, terminal):
    """At least one event, so that a row trigger has a row to fire on."""
    return submit(client, terminal("FM-01"), application()).get_json()["case_no"]


@pytest.mark.parametrize("statement", REFUSED)
def test_the_application_role_cannot_rewrite_the_record(app_role, engine, statement, a_timeline):
    with engine.connect() as conn, conn.begin():
        conn.execute(text(f"SET LOCAL ROLE {app_role}"))
        with pytest.raises(DBAPIError) as refused:
            _as_app(conn, statement)
        # insufficient privilege or not the owner; an UPDATE of the timeline meets its trigger
        # (the role keeps UPDATE for the SHARE lock of the monthly figures)
        refusal = (refused.value.orig.sqlstate, str(refused.value.orig))
        assert refusal[0] == "42501" or "append-only" in refusal[1], refusal


def test_the_application_role_works_the_tables_and_appends_to_the_record(app_role, engine):
    checks = {
        ("cases", "UPDATE"): True,
        ("outbox", "DELETE"): True,
        ("case_events", "INSERT"): True,
        ("case_events", "SELECT"): True,
        ("security_events", "INSERT"): True,
        ("case_events", "DELETE"): False,
        ("case_events", "TRUNCATE"): False,
        ("chain_cutover", "SELECT"): True,
        ("chain_cutover", "UPDATE"): False,
    }
    with engine.connect() as conn:
        for (table, privilege), expected in checks.items():
            held = conn.scalar(
                text("SELECT has_table_privilege(:r, :t, :p)"),
                {"r": app_role, "t": table, "p": privilege},
            )
            assert held is expected, (table, privilege)
    with engine.connect() as conn, conn.begin():
        conn.execute(text(f"SET LOCAL ROLE {app_role}"))
        assert conn.scalar(text("SELECT count(*) FROM case_events")) >= 0
        roles = conn.execute(
            text("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r"),
            {"r": app_role},
        ).one()
        assert tuple(roles) == (False, False, False)


def test_a_role_name_is_never_spliced_into_sql_unchecked(settings):
    with pytest.raises(ValueError):
        grant_app_role(settings.migration_sqlalchemy_url, "app; DROP TABLE cases")
