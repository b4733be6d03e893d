"""A fresh database for a benchmark: on DATABASE_URL's server if set, else an embedded one."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from ops.embedded import EmbeddedPostgres
from service.config import REPO_ROOT


@contextmanager
def bench_database(name: str, keep: bool = False) -> Iterator[tuple[Engine, str]]:
    """(engine, SQLAlchemy URL) of database `name`, dropped and created anew unless `keep`
    and it exists already."""
    server = None
    url = os.environ.get("DATABASE_URL")
    if not url:
        server = EmbeddedPostgres(REPO_ROOT / "var" / "bench-pgdata")
        url = server.url("postgres")
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not (keep and exists):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    target = parsed.set(drivername="postgresql+psycopg", database=name)
    target_url = target.render_as_string(hide_password=False)
    engine = create_engine(target_url)
    try:
        yield engine, target_url
    finally:
        engine.dispose()
        if server:
            server.stop()
