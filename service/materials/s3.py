"""Scans in an S3-compatible bucket (MinIO, Ceph RGW, a cloud's object storage), for deployments
where several machines must see the same files without a shared filesystem.

Objects are named by their SHA-256 like the filesystem store's files. An upload is first spooled
to a local temporary file (checked, hashed and measured there, never held in memory) and then put;
S3 shows an object only once its upload has completed, which gives the same atomicity as a rename.
"""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from service.config import S3Settings
from service.materials.store import Stored, received, sha256_of

_MISSING = ("404", "NoSuchKey", "NotFound")


class S3Store:
    """Content-addressed objects `<prefix>objects/ab/cd/<sha256>` in one bucket."""

    def __init__(self, client, bucket: str, prefix: str, spool_dir: Path):
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.spool_dir = spool_dir
        self.spool_dir.mkdir(parents=True, exist_ok=True)

    @classmethod
    def connect(cls, s3: S3Settings, spool_dir: Path, timeout_seconds: float = 30) -> "S3Store":
        """A store on the configured bucket; without keys boto3's own chain (instance roles …)
        is used."""
        client = boto3.client(
            "s3",
            endpoint_url=s3.endpoint_url,
            region_name=s3.region,
            aws_access_key_id=s3.access_key_id,
            aws_secret_access_key=s3.secret_access_key,
            config=Config(
                connect_timeout=timeout_seconds,
                read_timeout=timeout_seconds,
                retries={"max_attempts": 3, "mode": "standard"},
                # Path-style addressing works with every S3-compatible server, including those
                # reached by IP address inside a closed network.
                s3={"addressing_style": "path"},
            ),
        )
        return cls(client, s3.bucket, s3.prefix, spool_dir)

    def key(self, sha256: str) -> str:
        return f"{self.prefix}objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def put(self, stream: BinaryIO, limit: int) -> Stored:
        """Store a stream of at most `limit` bytes; refuses other types and larger files."""
        with received(stream, limit, self.spool_dir) as (tmp_path, stored):
            # Always written, even when the content is there already: that renews its
            # modification time, so the orphan sweep never takes a file someone just uploaded.
            self.client.upload_file(
                str(tmp_path),
                self.bucket,
                self.key(stored.sha256),
                ExtraArgs={"ContentType": stored.content_type},
            )
            return stored

    def open(self, sha256: str) -> BinaryIO:
        """A stream of the object's bytes (FileNotFoundError if there is none)."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))["Body"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _MISSING:
                raise FileNotFoundError(self.key(sha256)) from exc
            raise

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _MISSING:
                return False
            raise
        return True

    def intact(self, sha256: str) -> bool:
        """Whether the stored bytes still hash to their name (read back in full)."""
        try:
            body = self.open(sha256)
        except FileNotFoundError:
            return False
        try:
            return sha256_of(body) == sha256
        finally:
            body.close()

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))

    def stored_before(self, cutoff: datetime) -> Iterator[str]:
        """The checksums of objects last written before `cutoff`."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}objects/"
        )
        for page in pages:
            for entry in page.get("Contents", ()):
                if entry["LastModified"] < cutoff:
                    yield entry["Key"].rsplit("/", 1)[-1]
