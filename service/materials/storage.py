"""The store of scans the settings choose: the filesystem by default, or an S3-compatible bucket."""

from service.config import Settings
from service.materials.store import FileStore, Store


def open_store(settings: Settings) -> Store:
    """The configured store; the S3 one spools uploads under the files directory."""
    if settings.file_store == "s3" and settings.s3 is not None:
        from service.materials.s3 import S3Store  # boto3 is loaded only where it is used

        s3 = settings.s3
        return S3Store.connect(
            endpoint_url=s3.endpoint_url,
            bucket=s3.bucket,
            region=s3.region,
            access_key_id=s3.access_key_id,
            secret_access_key=s3.secret_access_key,
            prefix=s3.prefix,
            spool_dir=settings.files_dir / "tmp",
        )
    return FileStore(settings.files_dir)
