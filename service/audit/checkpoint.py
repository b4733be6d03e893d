"""Signed checkpoints of the record, kept outside the database.

A checkpoint is a JSON file in TONGBAN_CHECKPOINT_DIR (var/checkpoints by default), named after
the UTC time it was taken (`2025-03-01T000000.123456Z.json`, several a day allowed). Its body
pins the timeline (each case's last seq and hash, for the cases whose timeline changed since the
checkpoint before) and the security log (a digest of the rows it added), names the digest of the
checkpoint before it, and is signed with Ed25519 (TONGBAN_CHECKPOINT_KEY, the 32-byte private
seed; the public key goes to auditors). Someone with database superuser rights and even the
chain key can rewrite the tables, but not these files once they are copied off the host, nor
sign new ones without the signing key.

The signature and the chain digest cover `canonical(body)`: the body without "signature" as
JSON with sorted keys, no spaces, UTF-8; only strings, integers, lists and objects inside, so
every reader gets the same bytes back. This module is plain Python plus the file system.
"""

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT = "tongban-checkpoint/1"
NAME = re.compile(r"^\d{4}-\d\d-\d\dT\d{6}\.\d{6}Z\.json$")
SECURITY_COLUMNS = (
    "id",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "actor_role",
    "address",
    "action",
    "target_type",
    "target",
    "district_code",
    "outcome",
    "details",
)


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes that are signed and chained: the body without its signature, sorted keys."""
    fields = {k: v for k, v in body.items() if k != "signature"}
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def digest(body: dict[str, Any]) -> str:
    """SHA-256 of the canonical body: what the next checkpoint names as its previous one."""
    return hashlib.sha256(canonical(body)).hexdigest()


def private_key(seed: bytes) -> Ed25519PrivateKey:
    """The signing key from its 32-byte seed (TONGBAN_CHECKPOINT_KEY, decoded)."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key as auditors get it: URL-safe base64 of its 32 raw bytes."""
    return base64.urlsafe_b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key written by `public_key_text`."""
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(text.strip()))


def sign(body: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The body with its signature (URL-safe base64) added."""
    return {**body, "signature": base64.urlsafe_b64encode(key.sign(canonical(body))).decode()}


def signature_holds(doc: dict[str, Any], key: Ed25519PublicKey) -> bool:
    """Whether the checkpoint's signature is the public key's over its canonical body."""
    try:
        key.verify(base64.urlsafe_b64decode(str(doc.get("signature", ""))), canonical(doc))
    except (InvalidSignature, ValueError):
        return False
    return True


def file_name(taken_at: datetime) -> str:
    """The file a checkpoint taken at that moment is written to (sorts by time)."""
    return taken_at.astimezone(UTC).strftime("%Y-%m-%dT%H%M%S.%fZ") + ".json"


def taken_at_text(moment: datetime) -> str:
    """A checkpoint's time as it is written in its body."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def chain_break(
    docs: list[tuple[str, dict[str, Any]]], key: Ed25519PublicKey
) -> tuple[str, str] | None:
    """The first checkpoint (in file order) whose signature, format, name or link to the one
    before does not hold, and why; None when the whole chain holds."""
    previous = None
    for name, doc in docs:
        if not signature_holds(doc, key):
            return name, "its signature does not hold: the file was changed or not signed by us"
        if doc.get("format") != FORMAT:
            return name, f"not a {FORMAT} file"
        if file_name(datetime.fromisoformat(doc["taken_at"])) != name:
            return name, "its name is not the time it was taken: the file was renamed"
        if doc.get("previous") != previous:
            why = "the first checkpoint names one before it" if previous is None else ""
            return name, why or "it does not name the checkpoint before it: one is missing"
        previous = digest(doc)
    return None


def security_row(row: dict[str, Any]) -> bytes:
    """One security-log row as the bytes its range digest is made of (UTC microseconds)."""
    fields = {c: row[c] for c in SECURITY_COLUMNS}
    at = fields["occurred_at"]
    if isinstance(at, datetime):
        fields["occurred_at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    fields["details"] = fields["details"] or {}
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def security_digest(rows: Iterable[dict[str, Any]]) -> tuple[int, str]:
    """How many rows and the SHA-256 over them in the order given (by id), one line each."""
    hasher, count = hashlib.sha256(), 0
    for row in rows:
        hasher.update(security_row(row) + b"\n")
        count += 1
    return count, hasher.hexdigest()


@dataclass(frozen=True)
class Book:
    """The checkpoint directory and the key that signs (and so checks) its files."""

    directory: Path
    seed: bytes = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Any) -> "Book":
        return cls(Path(settings.checkpoint_dir), settings.checkpoint_key)

    @property
    def signer(self) -> Ed25519PrivateKey:
        return private_key(self.seed)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signer.public_key()

    def names(self) -> list[str]:
        """Every checkpoint file, oldest first (other files in the directory are ignored)."""
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if NAME.fullmatch(p.name))

    def read(self, name: str) -> dict[str, Any]:
        """One checkpoint file, parsed (a file that is not JSON raises ValueError)."""
        doc = json.loads((self.directory / name).read_bytes())
        if not isinstance(doc, dict):
            raise ValueError(f"{name} is not a JSON object")
        return doc

    def all(self) -> list[tuple[str, dict[str, Any]]]:
        """Every checkpoint with its file name, oldest first."""
        return [(name, self.read(name)) for name in self.names()]

    def write(self, doc: dict[str, Any]) -> Path:
        """Write a signed checkpoint atomically: a temporary file, flushed to disk, linked to
        its name (which fails rather than replace a checkpoint), then the directory synced."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / file_name(datetime.fromisoformat(doc["taken_at"]))
        content = json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1).encode() + b"\n"
        _atomic_create(path, content, replace=False)
        return path

    def write_aside(self, name: str, content: bytes) -> None:
        """Write or replace a file of the writer's own (not a checkpoint) atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_create(self.directory / name, content, replace=True)


def _atomic_create(path: Path, content: bytes, replace: bool) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    try:
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # FileExistsError if a checkpoint of that name exists
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
