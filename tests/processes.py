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

    def finished(self, task: str, task_id: str = "") -> int:
        """How many runs of `task` (of the message `task_id`, if given) the worker has finished
        well, from Celery's own lines in its log."""
        begins = f"Task {task}[{task_id}"
        return sum(begins in line and "] succeeded in " in line for line in self.log().splitlines())

    def received(self, task: str, task_id: str = "") -> int:
        begins = f"Task {task}[{task_id}"
        return sum(begins in line and "] received" in line for line in self.log().splitlines())

    def wait_for_runs(self, task: str, runs: int, timeout: float = 30) -> None:
        """Wait until `runs` runs of `task` received from now on have finished: with the relay,
        proof that the beat and the worker went round that many times, where a sleep would pass
        just as well with a stalled worker."""
        target = self.received(task) + runs
        wait_for(lambda: self.finished(task) >= target, timeout, f"{runs} more runs of {task}")

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


class HttpServerProcess:
    """A small HTTP server as a separate process, up once its `probe` path answers."""

    probe = "/"

    def __init__(self, log_dir: Path, name: str, port: int, args: list[str]):
        import httpx

        self.url = f"http://127.0.0.1:{port}"
        self._http = httpx
        self.log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self._up, 30, f"{name} to listen; log: {self.log_path}")

    def _up(self) -> bool:
        assert self.process.poll() is None, self.log_path.read_text(errors="replace")
        try:
            return self._http.get(f"{self.url}{self.probe}", timeout=1).status_code < 500
        except self._http.HTTPError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


class Simulator(HttpServerProcess):
    """The simulated district system (ops.district_sim) as a separate process."""

    probe = "/_state"

    def __init__(self, log_dir: Path, *, port: int, secret: str, district: str, tongban: str):
        args = ["ops.district_sim", "--port", str(port), f"--secret={secret}"]
        args += ["--district", district, "--tongban", tongban]
        super().__init__(log_dir, f"district-sim-{district}", port, args)

    def mode(self, mode: str, auto: bool = False) -> dict:
        return self._http.post(f"{self.url}/_mode", json={"mode": mode, "auto": auto}).json()

    def state(self) -> dict:
        return self._http.get(f"{self.url}/_state").json()

    def event(self, case_no: str, type_: str, data: dict | None = None, send: bool = True):
        body = {"case_no": case_no, "type": type_, "data": data or {}, "send": send}
        return self._http.post(f"{self.url}/_events", json=body).json()


class S3Server(HttpServerProcess):
    """moto's S3 server, a real HTTP S3 API, as a separate process."""

    def __init__(self, log_dir: Path, port: int):
        super().__init__(log_dir, "s3", port, ["moto.server", "-H", "127.0.0.1", "-p", str(port)])


class ApiServer(HttpServerProcess):
    """The app under gunicorn, with its config as docker/entrypoint.sh has it, on `port`; the
    environment (database, broker, keys) is the test session's."""

    probe = "/healthz"

    def __init__(self, log_dir: Path, port: int, workers: int = 2):
        super().__init__(
            log_dir,
            "api",
            port,
            [
                "gunicorn", "service.app:create_app()", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--config", "python:service.gunicorn_conf",
                "--no-control-socket",
            ],
        )  # fmt: skip
