"""A closed month's checkpoints, as one more file of its audit export.

The file holds copies of the signed checkpoints taken during the month (Asia/Shanghai) and of
the first one after it (which covers the month's last hours), each with the SHA-256 of the file
as written, and the public key that checks them. It is frozen with the month's other files and
listed in its manifest, so the copy an auditor holds does not depend on the checkpoint directory
staying as it was.
"""

import hashlib
import json
from datetime import datetime

from service.audit.checkpoint import Book, public_key_text
from service.stats.report import month_bounds

SCOPE = "audit"
FORMAT = "json"


def file_name(month: str) -> str:
    """The checkpoints file's name in the month's manifest."""
    return f"tongban-{month}-checkpoints.json"


def render(book: Book, month: str) -> bytes:
    """The month's checkpoints file (the same checkpoints give the same bytes)."""
    start, end, _first, _last = month_bounds(month)
    chosen = []
    for name in book.names():
        doc = book.read(name)
        taken_at = datetime.fromisoformat(doc["taken_at"])
        if taken_at < start:
            continue
        chosen.append((name, doc))
        if taken_at >= end:
            break
    content = {
        "month": month,
        "public_key": public_key_text(book.public_key),
        "checkpoints": [
            {
                "file": name,
                "sha256": hashlib.sha256((book.directory / name).read_bytes()).hexdigest(),
                "checkpoint": doc,
            }
            for name, doc in chosen
        ],
    }
    return json.dumps(content, ensure_ascii=False, sort_keys=True, indent=1).encode() + b"\n"
