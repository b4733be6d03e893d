"""Where scanned materials live: one file per content, named by its SHA-256, written atomically.

A file is streamed to a temporary name while it is hashed and measured, its type is read from its
first bytes (not its name), and only then renamed into place. Renaming is atomic, so a reader
never sees half a file; the same content uploaded twice is stored once. Plain Python and the
filesystem; `service.materials.s3` keeps the same objects in an S3-compatible bucket.
"""

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from catalog.refusals import DomainError

CHUNK = 64 * 1024
# First bytes -> media type. Only what a window scans: PDF, JPEG, PNG.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


class Refused(DomainError):
    """The upload is not acceptable; `code` is stable, the messages are for people."""

    title = "File refused"

    def __init__(self, code: str, message: str, message_zh: str):
        super().__init__(message, message_zh, "file", code=code)
        if code == "file-too-large":
            self.status = 413


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    content_type: str


def sniff(head: bytes) -> str | None:
    """The media type the first bytes show, or None for anything else."""
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


class Store(Protocol):
    """What the service needs of a store of scans; `FileStore` and `S3Store` provide it."""

    def put(self, stream: BinaryIO, limit: int) -> Stored: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def exists(self, sha256: str) -> bool: ...
    def intact(self, sha256: str) -> bool: ...
    def delete(self, sha256: str) -> None: ...
    def stored_before(self, cutoff: datetime) -> Iterator[str]: ...


@contextmanager
def received(stream: BinaryIO, limit: int, spool_dir: Path) -> Iterator[tuple[Path, Stored]]:
    """Spool a stream of at most `limit` bytes to a temporary file in `spool_dir`, hashing and
    measuring it and reading its type from its first bytes; refuses other types, larger and
    empty files. The temporary file is gone when the block ends, whatever happens."""
    digest, size, kind = hashlib.sha256(), 0, None
    fd, tmp_name = tempfile.mkstemp(dir=spool_dir, prefix="upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                if kind is None:
                    kind = sniff(chunk)
                    if kind is None:
                        raise Refused(
                            "unsupported-type",
                            "Only PDF, JPEG and PNG files are accepted (by their content).",
                            "只接受 PDF、JPEG、PNG 文件（按文件内容判断）。",
                        )
                size += len(chunk)
                if size > limit:
                    raise Refused(
                        "file-too-large",
                        f"Files are limited to {limit // (1024 * 1024)} MB.",
                        f"文件不能超过 {limit // (1024 * 1024)} MB。",
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise Refused("empty-file", "The file is empty.", "文件为空。")
        yield Path(tmp_name), Stored(digest.hexdigest(), size, kind)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def sha256_of(stream: BinaryIO) -> str:
    """The SHA-256 of everything left in `stream`, read in chunks."""
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


class FileStore:
    """Content-addressed files under `root`: objects/ab/cd/<sha256>."""

    def __init__(self, root: Path):
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO, limit: int) -> Stored:
        """Store a stream of at most `limit` bytes; refuses other types and larger files."""
        with received(stream, limit, self.tmp) as (tmp_path, stored):
            target = self.path(stored.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, target)  # atomic; the same content lands on the same name
            return stored

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def intact(self, sha256: str) -> bool:
        """Whether the stored bytes still hash to their name."""
        try:
            with self.open(sha256) as f:
                return sha256_of(f) == sha256
        except FileNotFoundError:
            return False

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def stored_before(self, cutoff: datetime) -> Iterator[str]:
        """The checksums of files stored before `cutoff`."""
        for path in (self.root / "objects").glob("*/*/*"):
            if path.stat().st_mtime < cutoff.timestamp():
                yield path.name
