"""`make run`'s launcher starts again a process that exits on its own once the system is
ready, and stops everything for a crash loop or an exit before ready (no processes started:
stand-ins that report how they exited)."""

import pytest

from ops.run import RESTARTS_ALLOWED, Launcher


class _Process:
    def __init__(self, returncode: int | None):
        self.returncode = returncode

    def poll(self) -> int | None:
        return self.returncode


def test_a_process_that_exits_once_ready_is_started_again():
    launcher = Launcher()
    starts = iter([_Process(1), _Process(None)])
    launcher.run("worker", lambda: next(starts))
    launcher.check_children()
    assert launcher.processes["worker"].poll() is None


def test_a_process_that_keeps_exiting_stops_everything():
    launcher = Launcher()
    launcher.run("beat", lambda: _Process(1))
    for _ in range(RESTARTS_ALLOWED):
        launcher.check_children()
    with pytest.raises(RuntimeError, match=f"beat exited with code 1, {RESTARTS_ALLOWED + 1} "):
        launcher.check_children()


def test_an_exit_before_the_system_is_ready_is_a_setup_error():
    launcher = Launcher()
    launcher.run("api", lambda: _Process(3))
    with pytest.raises(RuntimeError, match="api exited with code 3"):
        launcher.check_children(restart=False)
