"""Uploaded files: size caps (data files, scans, whole request bodies), data files' errors as
problems."""

from typing import Any

from catalog.rows import RowError
from catalog.tabular import FileFormatError
from service.errors import Problem

MAX_FILE_BYTES = 20 * 1024 * 1024  # a catalog or calendar file
MAX_SCANS = 20  # scans per material an application may name (MaterialHandedInSchema)
SHOWN_ERRORS = 1000


def request_limit_bytes(upload_limit_bytes: int) -> int:
    """The largest request body the app reads (Flask's MAX_CONTENT_LENGTH): a material's worth
    of scans of the largest size accepted plus one for the form's fields, or a data file and its
    fields. A larger body is a 413 before anything parses it (CSRF check, NUL guard, forms)."""
    return max((MAX_SCANS + 1) * upload_limit_bytes, MAX_FILE_BYTES + 1024 * 1024)


def read_upload(upload: Any) -> bytes:
    """The uploaded file's bytes, refusing anything over the cap without reading it all."""
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise Problem(
            413,
            "file-too-large",
            "File too large",
            f"Files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB.",
            detail_zh="文件过大。",
            errors=[{"field": "file", "messages": ["Too large."]}],
        )
    return data


def unreadable(err: FileFormatError) -> Problem:
    """A file that is not what it should be."""
    return Problem(
        422,
        "file-unreadable",
        "File cannot be read",
        str(err),
        detail_zh=err.message_zh,
        errors=[{"field": "file", "messages": [str(err)]}],
    )


def rows_problem(errors: list[RowError]) -> Problem:
    """Every error in a file, by sheet, row and column, in Chinese; nothing was changed."""
    return Problem(
        422,
        "file-invalid",
        "The file has errors; nothing was changed",
        f"{len(errors)} errors in the file; fix them all and import again.",
        detail_zh=f"文件中共有{len(errors)}处错误，未做任何修改。请全部改正后重新导入。",
        errors=[{"field": "file", "messages": [f"{len(errors)} errors"]}],
        extensions={
            "rows": [e.as_dict() for e in errors[:SHOWN_ERRORS]],
            "rows_total": len(errors),
        },
    )
