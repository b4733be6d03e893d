"""The run command from nothing: embedded servers, migrations, demo data, API, worker and beat;
a curl-like client submits with the demo key; Ctrl-C stops everything; a second start reuses data
and starts again a worker that died, which then forwards what was submitted.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from ops.embedded import free_port
from service.config import REPO_ROOT
from tests.helpers import application
from tests.processes import wait_for


def _request(method, url, body=None, headers=None):
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _processes_using(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(path) in cmdline:
            found.append(int(entry.name))
    return found


def _child_running(parent: int, *words: str) -> int | None:
    """The pid of `parent`'s child whose command line has all of `words`."""
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and all(w in cmdline for w in words):
            return int(entry.name)
    return None


class RunCommand:
    def __init__(self, var_dir: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {
            "TONGBAN_VAR_DIR": str(var_dir),
            "TONGBAN_BIND": f"127.0.0.1:{self.port}",
            "TONGBAN_ENV": "development",
            "WEB_CONCURRENCY": "1",
            "TONGBAN_WORKER_CONCURRENCY": "1",
        }
        env.pop("TONGBAN_DATA_KEY", None)
        self.log = open(var_dir.parent / f"run-{self.port}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ops.run"],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout=90) -> float:
        """Seconds until /readyz answers and the launcher has said so (from then on it starts
        again a process that exits, rather than stopping as for a failed start)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            assert self.process.poll() is None, self.tail()
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as response:
                    if response.status == 200 and "Tongban is ready" in self.output():
                        return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.5)
        pytest.fail("not ready in time:\n" + self.tail())

    def interrupt(self, timeout=40) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout)
        finally:
            self.log.close()

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def tail(self) -> str:
        return self.output()[-3000:]


def test_run_command_brings_up_the_system_and_ctrl_c_stops_it(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    run = RunCommand(var_dir)
    try:
        assert run.wait_ready() < 60
        credentials = json.loads((var_dir / "demo-credentials.json").read_text())
        key = next(t["api_key"] for t in credentials["terminals"] if t["center"] == "FM-01")
        auth = {"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex}
        status, case = _request("POST", run.base + "/api/v1/applications", application(), auth)
        assert status == 201, case
        status, again = _request(
            "GET", f"{run.base}/api/v1/applications/{case['case_no']}", None, auth
        )
        assert status == 200 and again["case_no"] == case["case_no"]
        # The pages and their assets are served by the same processes (gunicorn).
        for path, kind in (("/login", "text/html"), ("/assets/app.css", "text/css")):
            with urllib.request.urlopen(run.base + path, timeout=5) as response:
                assert response.status == 200 and response.headers["Content-Type"].startswith(kind)
    finally:
        code = run.interrupt()
    assert code == 0, run.tail()
    wait_for(lambda: _processes_using(var_dir) == [], 1, "every process of the run to be gone")

    # A second start reuses the data and the demo credentials.
    second = RunCommand(var_dir)
    try:
        second.wait_ready()
        status, same = _request(
            "GET", f"{second.base}/api/v1/applications/{case['case_no']}", None, auth
        )
        assert status == 200 and same["case_no"] == case["case_no"]
        assert json.loads((var_dir / "demo-credentials.json").read_text()) == credentials

        # A worker that dies (SIGKILL here; a broker restart can do it too) is started again,
        # and an application submitted while it was gone is still forwarded.
        worker = _child_running(second.process.pid, "celery", "worker")
        assert worker is not None
        os.kill(worker, signal.SIGKILL)
        auth["Idempotency-Key"] = uuid.uuid4().hex
        status, late = _request("POST", second.base + "/api/v1/applications", application(), auth)
        assert status == 201, late
        wait_for(
            lambda: _child_running(second.process.pid, "celery", "worker") not in (None, worker),
            60,
            "a new worker",
        )
        url = f"{second.base}/api/v1/applications/{late['case_no']}"

        def forwarded() -> bool:
            return _request("GET", url, None, auth)[1]["status"] != "submitted"

        wait_for(forwarded, 60, "its delivery")
        assert "worker exited with code -9; starting it again" in second.output()
    finally:
        assert second.interrupt() == 0
    wait_for(lambda: _processes_using(var_dir) == [], 1, "every process of the run to be gone")
