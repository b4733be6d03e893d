"""Headless Chromium for the browser tests: Debian's chromium driven by Playwright, and the app
served by a real HTTP server on a free port.

Playwright's own browser download is not used (closed networks, CI): it launches the system's
/usr/bin/chromium. Tests skip, saying why, when it or Playwright is missing.
"""

import os
import struct
import threading
import zlib
from pathlib import Path

from werkzeug.serving import make_server

from service.config import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}  # the office screens the pages are made for
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: install Debian's chromium package (.ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (requirements-dev.txt)"
    return None


def screenshots_wanted() -> bool:
    """TONGBAN_SCREENSHOTS=1 makes the browser test write docs/screenshots/*.png."""
    return os.environ.get("TONGBAN_SCREENSHOTS") == "1"


class LiveServer:
    """The Flask app on a real socket (werkzeug, threaded), for a browser to talk to."""

    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(10)


def png(width: int = 240, height: int = 150) -> bytes:
    """A real PNG (a light card with a darker band), as a scanned ID card stands in."""
    rows = []
    for y in range(height):
        band = 40 <= y < 70
        pixel = b"\x2f\x5d\x8a" if band else b"\xe8\xee\xf4"
        rows.append(b"\x00" + pixel * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )
