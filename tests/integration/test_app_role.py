"""The application's own database role: it works the tables but cannot rewrite the record,
even when someone takes over the application (issue 19: the audit trail)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.migrate import grant_app_role

ROLE = "tongban_app_test"

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
def app_role(engine, settings):
    with engine.begin() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE})
        if not exists:
            conn.execute(text(f"CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"))
        conn.execute(text(f"REVOKE CREATE ON SCHEMA public FROM {ROLE}, PUBLIC"))
    grant_app_role(settings.sqlalchemy_url, ROLE)
    return ROLE


def _as_app(conn, statement: str) -> None:
    with conn.begin_nested():
        conn.execute(text(statement))


@pytest.mark.parametrize("statement", REFUSED)
def test_the_application_role_cannot_rewrite_the_record(app_role, engine, statement):
    with engine.connect() as conn, conn.begin():
        conn.execute(text(f"SET LOCAL ROLE {app_role}"))
        with pytest.raises(DBAPIError) as refused:
            _as_app(conn, statement)
        assert refused.value.orig.sqlstate in ("42501",)  # insufficient_privilege / not owner


def test_the_application_role_works_the_tables_and_appends_to_the_record(app_role, engine):
    checks = {
        ("cases", "UPDATE"): True,
        ("outbox", "DELETE"): True,
        ("case_events", "INSERT"): True,
        ("case_events", "SELECT"): True,
        ("security_events", "INSERT"): True,
        ("case_events", "UPDATE"): False,
        ("case_events", "DELETE"): False,
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
        grant_app_role(settings.sqlalchemy_url, "app; DROP TABLE cases")
