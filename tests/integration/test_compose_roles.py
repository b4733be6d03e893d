"""The compose stack's PostgreSQL roles: docker/postgres-init/10-tongban-roles.sh, run by psql as
the postgres image would, against a fresh database on the suite's server (role names unique to
the run, as roles belong to the whole server)."""

import os
import shutil
import subprocess
import uuid

import psycopg
import pytest
from pgserver._commands import POSTGRES_BIN_PATH
from sqlalchemy.engine import make_url

from service.config import REPO_ROOT

SCRIPT = REPO_ROOT / "docker" / "postgres-init" / "10-tongban-roles.sh"
# Quotes and a backslash: the script must pass passwords to SQL quoted, whatever they hold.
OWNER_PASSWORD = "own'er\"pw\\1"
APP_PASSWORD = "app'pw;DROP ROLE x"


@pytest.fixture
def fresh(servers):
    """A new database and two role names; all three are dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = {"db": f"roles_{suffix}", "owner": f"owner_{suffix}", "app": f"app_{suffix}"}
    url = make_url(servers["MIGRATION_DATABASE_URL"]).set(drivername="postgresql")
    admin = url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{names["db"]}"')
    yield url, names
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{names["db"]}" WITH (FORCE)')
        for role in (names["owner"], names["app"]):
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def run_script(url, names) -> subprocess.CompletedProcess:
    # pgserver, a dependency, ships psql: its absence is a broken install, not a reason to skip.
    psql_dir = POSTGRES_BIN_PATH if (POSTGRES_BIN_PATH / "psql").exists() else None
    assert psql_dir is not None or shutil.which("psql"), "no psql: pgserver's bin/ lacks it"
    host = url.query.get("host") or url.host or ""
    env = {
        **os.environ,
        "PATH": f"{psql_dir}:{os.environ['PATH']}" if psql_dir else os.environ["PATH"],
        "PGHOST": host if isinstance(host, str) else host[0],
        "PGPORT": str(url.port or 5432),
        "PGPASSWORD": url.password or "",
        "POSTGRES_USER": url.username,
        "POSTGRES_DB": names["db"],
        "TONGBAN_OWNER_ROLE": names["owner"],
        "TONGBAN_APP_ROLE": names["app"],
        "TONGBAN_OWNER_DB_PASSWORD": OWNER_PASSWORD,
        "TONGBAN_APP_DB_PASSWORD": APP_PASSWORD,
    }
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)


def connect_as(url, names, role: str, password: str) -> psycopg.Connection:
    return psycopg.connect(
        url.render_as_string(hide_password=False),
        user=role,
        password=password,
        dbname=names["db"],
        autocommit=True,
    )


def test_the_init_script_makes_an_owner_and_a_powerless_app_role(fresh):
    url, names = fresh
    first = run_script(url, names)
    assert first.returncode == 0, first.stderr
    # Run again, as for an installation that predates the script: nothing fails or doubles.
    again = run_script(url, names)
    assert again.returncode == 0, again.stderr

    admin = url.set(database=names["db"]).render_as_string(hide_password=False)
    with psycopg.connect(admin) as conn:
        roles = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin"
                " FROM pg_roles WHERE rolname = ANY(%s)",
                [[names["owner"], names["app"]]],
            )
        }
        with_password = conn.execute(
            "SELECT count(*) FROM pg_authid WHERE rolname = ANY(%s) AND rolpassword IS NOT NULL",
            [[names["owner"], names["app"]]],
        ).fetchone()
        owner_of_db = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [names["db"]]
        ).fetchone()
        owner_of_schema = conn.execute(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'"
        ).fetchone()
    assert with_password == (2,)
    assert roles[names["app"]] == (False, False, False, True)
    assert roles[names["owner"]] == (False, False, False, True)
    assert owner_of_db == (names["owner"],) and owner_of_schema == (names["owner"],)

    with connect_as(url, names, names["owner"], OWNER_PASSWORD) as owner:
        owner.execute("CREATE TABLE timeline_probe (id int)")
    with connect_as(url, names, names["app"], APP_PASSWORD) as app:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("CREATE TABLE app_made (id int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("ALTER TABLE timeline_probe DISABLE TRIGGER ALL")
