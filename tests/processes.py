"""Real Celery worker processes for tests, and waiting for things to happen."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from service.config import REPO_ROOT


def wait_for(predicate: Callable[[], object], timeout: float = 30, what: str = "condition"):
    """Poll until `predicate()` is truthy; return its value or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Worker:
    """`celery worker -B` in its own process group, so a kill takes the whole worker."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str = "test"):
        self.log_path = log_dir / f"worker-{name}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "--beat",
                "--schedule",
                str(log_dir / f"beat-{time.monotonic_ns()}"),
                "--concurrency",
                "2",
                "--hostname",
                f"{name}-{time.monotonic_ns()}@%h",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._ready, 60, f"worker to start; log: {self.log_path}")

    def _ready(self) -> bool:
        assert self.process.poll() is None, self.log()
        return "ready." in self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no cleanup, no acks."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()
