"""The file store on a real disk: types by content, limits, atomic writes, nothing left over."""

import io

import pytest

from service.materials.store import FileStore, Refused

PDF = b"%PDF-1.7\n" + b"0" * 5000
PNG = b"\x89PNG\r\n\x1a\n" + b"1" * 100


def leftovers(store: FileStore) -> list:
    return list(store.tmp.iterdir())


def test_stored_once_by_content_and_read_back(tmp_path):
    store = FileStore(tmp_path)
    first = store.put(io.BytesIO(PDF), limit=10_000)
    again = store.put(io.BytesIO(PDF), limit=10_000)
    assert first == again and first.content_type == "application/pdf" and first.size == len(PDF)
    assert store.open(first.sha256).read() == PDF and store.intact(first.sha256)
    assert store.put(io.BytesIO(PNG), limit=10_000).content_type == "image/png"
    assert leftovers(store) == []


def test_wrong_type_too_large_and_empty_are_refused_and_leave_nothing(tmp_path):
    store = FileStore(tmp_path)
    for data, code in (
        (b"MZ\x90\x00 an exe named scan.pdf", "unsupported-type"),
        (PDF, "file-too-large"),
        (b"", "empty-file"),
    ):
        with pytest.raises(Refused) as err:
            store.put(io.BytesIO(data), limit=1000)
        assert err.value.code == code
    assert leftovers(store) == [] and not (tmp_path / "objects").exists()


class Interrupted(io.RawIOBase):
    """A client that goes away half-way through its upload."""

    def __init__(self):
        self.sent = 0

    def read(self, size=-1):
        if self.sent:
            raise ConnectionResetError("client went away")
        self.sent = 1
        return PDF[:4000]


def test_an_interrupted_upload_leaves_nothing_behind(tmp_path):
    store = FileStore(tmp_path)
    with pytest.raises(ConnectionResetError):
        store.put(Interrupted(), limit=1_000_000)
    assert leftovers(store) == [] and not (tmp_path / "objects").exists()


def test_a_changed_file_is_no_longer_intact(tmp_path):
    store = FileStore(tmp_path)
    stored = store.put(io.BytesIO(PDF), limit=10_000)
    store.path(stored.sha256).write_bytes(PDF[:-1] + b"X")
    assert not store.intact(stored.sha256)
    assert not store.intact("0" * 64)
