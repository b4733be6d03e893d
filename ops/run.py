"""`make run`: the whole system from one command.

With DATABASE_URL and REDIS_URL unset it starts the embedded PostgreSQL and Redis (data under
var/), migrates, loads the demo data, then runs gunicorn, a Celery worker and beat until Ctrl-C,
which stops every process it started. With the URLs set it uses those servers instead.

Once the system has been ready, a process that exits on its own is started again, as compose's
`restart: unless-stopped` does in production: a Celery worker can die of a broker restart by
itself (kombu's Redis transport), and nothing is lost meanwhile (the outbox keeps every
delivery). A process that exits more than 5 times in 5 minutes stops the whole system with
its name.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from pathlib import Path

from ops.embedded import EmbeddedPostgres, EmbeddedRedis, app_role_url
from service.config import REPO_ROOT, ConfigError

STOP_GRACE_SECONDS = 20
# More exits than this of one process within the window is a crash loop, not a hiccup.
RESTARTS_ALLOWED = 5
RESTART_WINDOW_SECONDS = 300
ENTRYPOINT = REPO_ROOT / "docker" / "entrypoint.sh"
# A district whose own case system is simulated in the demo ("" or "off" for none).
DEMO_DISTRICT = os.environ.get("TONGBAN_DEMO_DISTRICT_SYSTEM", "530181")
# The application's own database role in the embedded run (as docker/postgres-init/ makes it).
APP_ROLE = "tongban_app"


def say(message: str) -> None:
    print(f"[tongban] {message}", flush=True)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class Launcher:
    def __init__(self) -> None:
        self.var_dir = Path(os.environ.get("TONGBAN_VAR_DIR") or REPO_ROOT / "var")
        self.bind = os.environ.get("TONGBAN_BIND", "127.0.0.1:8000")
        self.processes: dict[str, subprocess.Popen] = {}
        self.starters: dict[str, Callable[[], subprocess.Popen]] = {}
        self.exits: dict[str, deque[float]] = {}
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.stopping = False
        self.sim_port: int | None = None
        self.sim_secret: str | None = None

    def start_servers(self) -> None:
        if not os.environ.get("DATABASE_URL"):
            say(f"starting embedded PostgreSQL (data in {self.var_dir / 'pgdata'})")
            self.postgres = EmbeddedPostgres(self.var_dir / "pgdata")
            # Two roles, as in production: migrations as the owner, everything else as the
            # application's own role, which may only append to the audit trail.
            owner_url = self.postgres.ensure_database()
            os.environ["MIGRATION_DATABASE_URL"] = owner_url
            os.environ["DATABASE_URL"] = app_role_url(owner_url, APP_ROLE)
            os.environ["TONGBAN_APP_ROLE"] = APP_ROLE
        else:
            say("using PostgreSQL from DATABASE_URL")
        if not os.environ.get("REDIS_URL"):
            say(f"starting embedded Redis (data in {self.var_dir / 'redis'})")
            self.redis = EmbeddedRedis(self.var_dir / "redis")
            os.environ["REDIS_URL"] = self.redis.url
        else:
            say("using Redis from REDIS_URL")
        os.environ.setdefault("TONGBAN_VAR_DIR", str(self.var_dir))

    def prepare_database(self) -> None:
        from service.config import load_settings
        from service.crypto import FieldCipher
        from service.db import Database
        from service.demo import seed_demo
        from service.migrate import upgrade
        from service.rekey import reencrypt

        settings = load_settings()
        say("applying migrations")
        upgrade(settings.migration_sqlalchemy_url, app_role=settings.app_role)
        database = Database(settings)
        # Names kept in clear before migration 0014 are sealed, and old ciphertexts moved
        # to the current key (nothing to do, and quick, on every later start).
        reencrypt(database.sessionmaker, FieldCipher.from_settings(settings))
        with database.sessionmaker() as session:
            counts = seed_demo(session, settings.var_dir / "demo-credentials.json")
            if DEMO_DISTRICT not in ("", "off"):
                from ops.embedded import free_port
                from service.demo import simulate_district_system

                self.sim_port = free_port()
                self.sim_secret = simulate_district_system(
                    session,
                    FieldCipher.from_settings(settings),
                    DEMO_DISTRICT,
                    f"http://127.0.0.1:{self.sim_port}",
                    settings.var_dir,
                )
        database.engine.dispose()
        say("demo data: " + ", ".join(f"{v} {k}" for k, v in counts.items()))

    def run(self, name: str, start: Callable[[], subprocess.Popen]) -> None:
        """Start a process, and keep how to start it again."""
        self.starters[name] = start
        self.processes[name] = start()

    def _role(self, role: str) -> Callable[[], subprocess.Popen]:
        """Starts one role through the container entrypoint, so both run it the same way."""
        env = {**os.environ, "PYTHON": sys.executable, "TONGBAN_BIND": self.bind}
        return lambda: subprocess.Popen([str(ENTRYPOINT), role], cwd=REPO_ROOT, env=env)

    def start_processes(self) -> None:
        for role in ("api", "worker", "beat"):
            self.run(role, self._role(role))
        if self.sim_port:
            say(f"simulating district {DEMO_DISTRICT}'s own case system on port {self.sim_port}")
            tongban = f"http://{self.bind.replace('0.0.0.0', '127.0.0.1')}"
            argv = [
                sys.executable,
                "-m",
                "ops.district_sim",
                "--port",
                str(self.sim_port),
                f"--secret={self.sim_secret}",  # a secret may begin with "-"
                "--district",
                DEMO_DISTRICT,
                "--tongban",
                tongban,
                "--auto",
            ]
            self.run("district-sim", lambda: subprocess.Popen(argv, cwd=REPO_ROOT))

    def wait_ready(self, timeout: float = 60) -> str:
        base = f"http://{self.bind.replace('0.0.0.0', '127.0.0.1')}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_children(restart=False)  # an exit before ready is a setup error
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return base
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{base}/readyz did not answer 200 within {timeout:.0f} s")

    def check_children(self, restart: bool = True) -> None:
        """Start again a process that exited on its own; raise if it may not be (before the
        system was ready, or in a crash loop)."""
        for name, process in list(self.processes.items()):
            if process.poll() is None or self.stopping:
                continue
            exited = f"{name} exited with code {process.returncode}"
            now = time.monotonic()
            exits = self.exits.setdefault(name, deque())
            exits.append(now)
            while now - exits[0] > RESTART_WINDOW_SECONDS:
                exits.popleft()
            if not restart:
                raise RuntimeError(exited)
            if len(exits) > RESTARTS_ALLOWED:
                raise RuntimeError(
                    f"{exited}, {len(exits)} times in {RESTART_WINDOW_SECONDS} s; see its output"
                )
            say(f"{exited}; starting it again")
            self.processes[name] = self.starters[name]()

    def stop(self) -> None:
        self.stopping = True
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()
        say("stopped")


def main() -> int:
    launcher = Launcher()
    host, _, port = launcher.bind.rpartition(":")
    if not _port_free(host, int(port)):
        say(f"{launcher.bind} is in use: stop what runs there or set TONGBAN_BIND=127.0.0.1:PORT")
        return 1

    def _interrupt(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        launcher.start_servers()
        launcher.prepare_database()
        launcher.start_processes()
        base = launcher.wait_ready()
        say(f"Tongban is ready: {base}")
        say(f"API docs: {base}/api/v1/docs   OpenAPI: {base}/api/v1/openapi.json")
        say(f"pages: {base}/login (staff)   {base}/login/window (a window's terminal key)")
        say(f"demo credentials: {launcher.var_dir / 'demo-credentials.json'}")
        say("press Ctrl-C to stop everything")
        while True:
            launcher.check_children()
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopping")
        return 0
    except (RuntimeError, ConfigError) as exc:
        say(f"error: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        launcher.stop()


if __name__ == "__main__":
    sys.exit(main())
