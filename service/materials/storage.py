"""The store of scans the settings choose: the filesystem by default, or an S3-compatible bucket."""

from service.config import Settings
from service.materials.store import FileStore, Store


def open_store(settings: Settings) -> Store:
    """The configured store; the S3 one spools uploads under the files directory."""
    if settings.file_store == "s3" and settings.s3 is not None:
        from service.materials.s3 import S3Store  # boto3 is loaded only where it is used

        return S3Store.connect(settings.s3, spool_dir=settings.files_dir / "tmp")
    return FileStore(settings.files_dir)
