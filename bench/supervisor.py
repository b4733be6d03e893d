"""Restart a stack process that exits on its own, as compose's `restart: unless-stopped` does.

The fault suite needs it: a Celery worker may die of a broker restart by itself (kombu's
Redis transport, "Unrecoverable error: AttributeError ... 'hostname'"; related reports:
celery/celery #10205 and #8030), and production relies on the supervisor then. Exits the
suite causes on purpose (SIGKILL) happen under `lock`, so they are never counted here.
"""

import threading
from collections.abc import Callable

from bench.stack import Stack, say

INTERVAL_SECONDS = 1.0


class Supervisor:
    """Watches `names` in a thread; `restarts` counts the restarts per name."""

    def __init__(self, stack: Stack, starters: dict[str, Callable[[], None]]):
        self.stack, self.starters = stack, starters
        self.lock = threading.Lock()
        self.restarts = dict.fromkeys(starters, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(INTERVAL_SECONDS):
            with self.lock:
                for name, start in self.starters.items():
                    process = self.stack.processes.get(name)
                    if process is not None and process.poll() is not None:
                        say(f"  {name} exited by itself (code {process.returncode}); restarting")
                        self.stack.forget(name)
                        self.restarts[name] += 1
                        start()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
