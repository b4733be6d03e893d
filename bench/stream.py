"""A steady stream of applications that survives outages, as a window's terminal would behave.

Each application keeps its Idempotency-Key and body until the API answers 201, so a retry
after a timeout or a 5xx can never make a second case. Half the stream goes from 富民's window
to 五华 (delivered inside Tongban), half from 西山's window to 安宁 (its own system over HTTP).
"""

import json
import threading
import time
import uuid

import httpx

from tests.helpers import application

RETRY_PAUSE_SECONDS = 0.5


class Stream:
    """Submits `rate` applications per second in a thread until `stop()`."""

    def __init__(self, api: str, keys: dict[str, str], rate: float):
        self.api, self.keys, self.rate = api, keys, rate
        self.submitted: dict[str, str] = {}  # case_no -> accepting center
        self.attempts = 0
        self.retries = 0
        self.errors: dict[str, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _submit(self, center: str, body: dict) -> None:
        key = uuid.uuid4().hex
        headers = {
            "Authorization": f"Bearer {self.keys[center]}",
            "Idempotency-Key": key,
            "Content-Type": "application/json",
        }
        content = json.dumps(body, ensure_ascii=False).encode()
        give_up = None
        while True:
            with self._lock:
                self.attempts += 1
            try:
                response = httpx.post(
                    f"{self.api}/api/v1/applications", content=content, headers=headers, timeout=10
                )
                if response.status_code == 201:
                    with self._lock:
                        self.submitted[response.json()["case_no"]] = center
                    return
                if response.status_code < 500:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
                error = str(response.status_code)
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            with self._lock:
                self.retries += 1
                self.errors[error] = self.errors.get(error, 0) + 1
            if self._stop.is_set():
                give_up = give_up or time.monotonic() + 120
                if time.monotonic() > give_up:
                    raise RuntimeError(f"no 201 for Idempotency-Key {key} after the run")
            time.sleep(RETRY_PAUSE_SECONDS)

    def _run(self, n: int) -> None:
        center, district = (("FM-01", "530102"), ("XS-01", "530181"))[n % 2]
        body = application(facts={"insured_district": district})
        self._submit(center, body)

    def start(self) -> None:
        def pace() -> None:
            n, started = 0, time.monotonic()
            while not self._stop.is_set():
                thread = threading.Thread(target=self._run, args=(n,), daemon=True)
                thread.start()
                self._threads.append(thread)
                n += 1
                time.sleep(max(0.0, started + n / self.rate - time.monotonic()))

        self._pacer = threading.Thread(target=pace, daemon=True)
        self._pacer.start()

    def stop(self) -> None:
        """Stop sending new applications and wait for those still retrying."""
        self._stop.set()
        self._pacer.join()
        for thread in self._threads:
            thread.join()
