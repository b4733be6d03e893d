"""Running Alembic migrations from code (CLI, embedded run, tests)."""

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(sqlalchemy_url: str) -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["sqlalchemy_url"] = sqlalchemy_url
    return config


def upgrade(sqlalchemy_url: str, revision: str = "head", app_role: str | None = None) -> None:
    """Migrate as the schema's owner; then, if the application has a role of its own, grant it
    what it needs on every table there now (new tables included)."""
    command.upgrade(alembic_config(sqlalchemy_url), revision)
    if app_role:
        grant_app_role(sqlalchemy_url, app_role)


# What the application role may not do to the tables that keep the record: the timeline is
# append-only (no DELETE or TRUNCATE; UPDATE stays granted only because the monthly figures
# take a SHARE lock on it, which PostgreSQL allows only with UPDATE, DELETE or TRUNCATE rights,
# and its trigger refuses every UPDATE, a trigger the role cannot disable: it owns nothing);
# the security log is too, except the purge of rows past retention, which its trigger bounds
# (migration 0015); the cut-over of the chain and Alembic's version are read only.
_RECORD_KEEPING = (
    "REVOKE DELETE, TRUNCATE ON case_events FROM {role}",
    "REVOKE UPDATE, TRUNCATE ON security_events FROM {role}",
    "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON chain_cutover, alembic_version FROM {role}",
)


def grant_app_role(sqlalchemy_url: str, role: str) -> None:
    """Give the application role (neither superuser nor owner) its rights: reading and writing
    the working tables, only appending to the record-keeping ones. The owner runs this."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    engine = create_engine(sqlalchemy_url, hide_parameters=True)
    statements = (
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        *_RECORD_KEEPING,
    )
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement.format(role=role)))
    engine.dispose()
