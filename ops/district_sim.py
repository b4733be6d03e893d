"""A district's own case system, simulated: a real small HTTP server for tests and the demo.

    python -m ops.district_sim --port 8701 --secret S --district 530181 \
        --tongban http://127.0.0.1:8000 [--mode healthy] [--auto]

It takes Tongban's signed deliveries (POST /deliveries), treats a repeated Idempotency-Key as
the same delivery, keeps what it received, and answers according to its mode. Like a real
receiver it first downloads every scan by its signed link and checks its SHA-256: a file it
cannot fetch or that does not match is a 503 (Tongban retries), never a receipt.

    healthy              200
    slow                 200 after --slow-seconds
    down                 503
    flaky                503 and 200 in turn
    rejecting            422 with a reason (a permanent refusal)
    duplicate-callbacks  200, and every callback it sends goes twice

With --auto (or "auto" set through /_mode) it works each new case like a clerk would: it sends
signed "accepted" then "completed" callbacks to Tongban. GET /status?case_no= answers the
events it has for a case (reconciliation). Operators of the test: POST /_mode {"mode", "auto"},
POST /_events {"case_no", "type", "send": false} to make an event without calling back, and
GET /_state for what it received.
"""

import argparse
import hashlib
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx

from service.districts.signing import (
    CALLBACK,
    DELIVER,
    SIGNATURE_HEADER,
    STATUS,
    TIMESTAMP_HEADER,
    signed_headers,
    verify,
)

MODES = ("healthy", "slow", "down", "flaky", "rejecting", "duplicate-callbacks")
REJECTION = "申请材料不符合本系统要求：缺少居民户口簿"
log = logging.getLogger("district_sim")


class DistrictSystem:
    """The simulated system's state; every method is safe to call from several threads."""

    def __init__(
        self, district: str, secret: str, tongban: str, mode: str, auto: bool, slow: float
    ):
        self.district, self.secret, self.tongban = district, secret, tongban.rstrip("/")
        self.mode, self.auto, self.slow_seconds = mode, auto, slow
        self.lock = threading.Lock()
        self.requests = 0
        self.by_key: dict[str, dict] = {}  # Idempotency-Key -> the delivery
        self.cases: dict[str, int] = {}  # case_no -> distinct deliveries of case.created
        self.events: dict[str, list[dict]] = {}  # case_no -> events it produced
        self.files: dict[str, list[dict]] = {}  # case_no -> the scans' checksums and links
        self.callbacks_sent = 0
        self.callback_failures = 0

    def state(self) -> dict:
        with self.lock:
            return {
                "mode": self.mode,
                "auto": self.auto,
                "requests": self.requests,
                "deliveries": len(self.by_key),
                "cases": dict(self.cases),
                "events": {k: [e["type"] for e in v] for k, v in self.events.items()},
                "files": dict(self.files),
                "callbacks_sent": self.callbacks_sent,
                "callback_failures": self.callback_failures,
            }

    def answer(self) -> tuple[int, dict]:
        """The status and body the current mode gives a delivery."""
        with self.lock:
            self.requests += 1
            mode, n = self.mode, self.requests
        if mode == "down" or (mode == "flaky" and n % 2 == 1):
            return 503, {"error": "system unavailable"}
        if mode == "rejecting":
            return 422, {"error": REJECTION}
        if mode == "slow":
            time.sleep(self.slow_seconds)
        return 200, {"received": True}

    def missing_files(self, delivery: dict) -> str | None:
        """Why the delivery's scans cannot be taken (not fetched, or not matching), or None."""
        for link in delivery.get("files") or ():
            try:
                response = httpx.get(self.tongban + link["url"], timeout=10)
            except httpx.HTTPError as err:
                return f"file {link['material_code']} not fetched: {type(err).__name__}"
            if response.status_code != 200:
                return f"file {link['material_code']} not fetched: HTTP {response.status_code}"
            if hashlib.sha256(response.content).hexdigest() != link["sha256"]:
                return f"file {link['material_code']} fails its SHA-256"
        return None

    def take(self, key: str, delivery: dict) -> bool:
        """Keep a delivery; False if this Idempotency-Key came before (the same delivery)."""
        with self.lock:
            if key in self.by_key:
                return False
            self.by_key[key] = delivery
            if delivery.get("files"):
                self.files[delivery["case_no"]] = delivery["files"]
            if delivery.get("event") == "case.created":
                case_no = delivery["case_no"]
                self.cases[case_no] = self.cases.get(case_no, 0) + 1
            return True

    def make_event(self, case_no: str, type_: str, data: dict | None = None) -> dict:
        event = {
            "event_id": uuid.uuid4().hex,
            "case_no": case_no,
            "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": data or {},
        }
        with self.lock:
            self.events.setdefault(case_no, []).append(event)
        return event

    def call_back(self, event: dict) -> None:
        body = json.dumps(event, ensure_ascii=False).encode()
        times = 2 if self.mode == "duplicate-callbacks" else 1
        for _ in range(times):
            headers = {
                "Content-Type": "application/json",
                **signed_headers(self.secret, CALLBACK, int(time.time()), body),
            }
            url = f"{self.tongban}/api/v1/districts/{self.district}/callbacks"
            try:
                response = httpx.post(url, content=body, headers=headers, timeout=10)
                ok = response.is_success
            except httpx.HTTPError:
                ok = False
            with self.lock:
                self.callbacks_sent += ok
                self.callback_failures += not ok

    def work(self, case_no: str, delay: float = 0.3) -> None:
        """Accept, then complete, the way a clerk of this district would."""
        time.sleep(delay)
        self.call_back(self.make_event(case_no, "accepted"))
        time.sleep(delay)
        self.call_back(
            self.make_event(
                case_no,
                "completed",
                {"outcome": "approved", "document_no": f"SIM-{case_no[-5:]}"},
            )
        )


def handler_for(system: DistrictSystem) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # keep test output quiet
            log.debug(fmt, *args)

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _signed(self, direction: str, payload: bytes) -> bool:
            why = verify(
                system.secret,
                direction,
                self.headers.get(TIMESTAMP_HEADER),
                self.headers.get(SIGNATURE_HEADER),
                payload,
                int(time.time()),
            )
            if why:
                self._send(401, {"error": why})
            return why is None

        def do_POST(self):
            path, body = urlparse(self.path).path, self._body()
            if path == "/deliveries":
                if not self._signed(DELIVER, body):
                    return
                status, answer = system.answer()
                delivery = json.loads(body)
                why = system.missing_files(delivery) if status == 200 else None
                if why:
                    status, answer = 503, {"error": why}
                if status == 200:
                    fresh = system.take(self.headers.get("Idempotency-Key", ""), delivery)
                    if fresh and system.auto and delivery.get("event") == "case.created":
                        threading.Thread(
                            target=system.work, args=(delivery["case_no"],), daemon=True
                        ).start()
                self._send(status, answer)
            elif path == "/_mode":
                wanted = json.loads(body or b"{}")
                if wanted.get("mode") not in (None, *MODES):
                    return self._send(400, {"error": f"mode is one of {MODES}"})
                with system.lock:
                    system.mode = wanted.get("mode") or system.mode
                    system.auto = wanted.get("auto", system.auto)
                self._send(200, system.state())
            elif path == "/_events":
                wanted = json.loads(body)
                event = system.make_event(wanted["case_no"], wanted["type"], wanted.get("data"))
                if wanted.get("send", True):
                    system.call_back(event)
                self._send(200, event)
            else:
                self._send(404, {"error": "not found"})

        def do_GET(self):
            url = urlparse(self.path)
            if url.path == "/_state":
                return self._send(200, system.state())
            if url.path == "/status":
                if not self._signed(STATUS, url.query.encode()):
                    return
                case_no = parse_qs(url.query).get("case_no", [""])[0]
                with system.lock:
                    events = list(system.events.get(case_no, []))
                return self._send(200, {"case_no": case_no, "events": events})
            self._send(404, {"error": "not found"})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="A simulated district case system.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--district", required=True)
    parser.add_argument("--tongban", default="http://127.0.0.1:8000")
    parser.add_argument("--mode", choices=MODES, default="healthy")
    parser.add_argument("--auto", action="store_true", help="accept and complete each new case")
    parser.add_argument("--slow-seconds", type=float, default=5.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    system = DistrictSystem(
        args.district, args.secret, args.tongban, args.mode, args.auto, args.slow_seconds
    )
    server = ThreadingHTTPServer((args.host, args.port), handler_for(system))
    server.daemon_threads = True
    log.info("district system %s simulated on %s:%s", args.district, args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
