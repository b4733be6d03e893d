"""Peak resident memory of the stack's processes, sampled while a benchmark puts load on them."""

import threading

from bench.stack import Stack

INTERVAL_SECONDS = 0.5


class PeakMemory:
    """Samples the named processes (each with its children) in a thread; `peaks` in KiB."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        for name in list(self.stack.processes):
            try:
                kib = self.stack.rss(name)
            except KeyError:  # stopped between listing and sampling
                continue
            self.peaks[name] = max(self.peaks.get(name, 0), kib)

    def __enter__(self) -> "PeakMemory":
        def run() -> None:
            while not self._stop.wait(INTERVAL_SECONDS):
                self.sample()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
