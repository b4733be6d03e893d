"""The S3-compatible store against a real S3 HTTP server (moto's, as a separate process): the
same guarantees as the filesystem store, and a case's scans delivered through a real worker."""

import base64
import io
import secrets
from datetime import timedelta

import boto3
import pytest

from ops.embedded import free_port
from service.clock import now_utc
from service.materials.store import Refused
from tests.helpers import delivery_error, status_of, submit
from tests.integration.test_materials import (
    PDF,
    PNG,
    received,
    stage,
    with_scans,
)
from tests.processes import S3Server, Worker, wait_for

BUCKET = "tongban-scans"
S3_ENV = {
    "TONGBAN_FILE_STORE": "s3",
    "TONGBAN_S3_BUCKET": BUCKET,
    "TONGBAN_S3_REGION": "us-east-1",
    "TONGBAN_S3_ACCESS_KEY_ID": "tongban-test",
    "TONGBAN_S3_SECRET_ACCESS_KEY": "tongban-test-secret",
    "TONGBAN_S3_PREFIX": "scans",
}


@pytest.fixture(scope="module")
def s3_env(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("s3"), free_port())
    env = {**S3_ENV, "TONGBAN_S3_ENDPOINT_URL": server.url}
    boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="tongban-test",
        aws_secret_access_key="tongban-test-secret",
    ).create_bucket(Bucket=BUCKET)
    yield env
    server.stop()


@pytest.fixture(scope="module")
def s3_settings(worker_env, s3_env):
    from service.config import load_settings

    return load_settings({**worker_env, **s3_env})


@pytest.fixture(scope="module")
def store(s3_settings):
    from service.materials.s3 import S3Store
    from service.materials.storage import open_store

    opened = open_store(s3_settings)
    assert isinstance(opened, S3Store)
    return opened


@pytest.fixture(scope="module")
def s3_client(migrated, s3_settings):
    from service.app import create_app

    return create_app(s3_settings).test_client()


@pytest.fixture(scope="module")
def s3_worker(worker_env, s3_env, tmp_path_factory, migrated):
    w = Worker({**worker_env, **s3_env}, tmp_path_factory.mktemp("worker"), "materials-s3")
    yield w
    w.stop()


def _spooled(store) -> list:
    return list(store.spool_dir.iterdir())


def test_objects_are_stored_once_by_content_and_read_back(store):
    first = store.put(io.BytesIO(PDF), limit=100_000)
    again = store.put(io.BytesIO(PDF), limit=100_000)
    assert first == again and first.content_type == "application/pdf"
    assert store.key(first.sha256).startswith("scans/objects/")
    assert store.exists(first.sha256) and store.intact(first.sha256)
    assert store.open(first.sha256).read() == PDF
    assert store.put(io.BytesIO(PNG), limit=100_000).content_type == "image/png"
    assert _spooled(store) == []  # nothing left in the local spool


def test_refused_uploads_leave_nothing_in_the_bucket(store):
    before = set(store.stored_before(now_utc() + timedelta(minutes=5)))
    for data, limit in ((b"GIF89a not a scan", 1000), (b"%PDF-" + b"0" * 2000, 1000), (b"", 1000)):
        with pytest.raises(Refused):
            store.put(io.BytesIO(data), limit=limit)
    assert set(store.stored_before(now_utc() + timedelta(minutes=5))) == before
    assert _spooled(store) == []


def test_a_changed_object_is_no_longer_intact_and_delete_removes_it(store):
    stored = store.put(io.BytesIO(PDF + b"to be changed"), limit=100_000)
    store.client.put_object(Bucket=BUCKET, Key=store.key(stored.sha256), Body=PDF)
    assert not store.intact(stored.sha256)
    store.delete(stored.sha256)
    assert not store.exists(stored.sha256) and not store.intact(stored.sha256)
    with pytest.raises(FileNotFoundError):
        store.open(stored.sha256)


def test_the_orphan_sweep_lists_the_bucket(store, migrated):
    from service.materials.service import sweep_orphans

    orphan = store.put(io.BytesIO(PDF + b"no row points here"), limit=100_000)
    with migrated.sessionmaker() as session:
        assert sweep_orphans(session, store, older_than=timedelta(hours=1)) == 0  # too young
        assert store.exists(orphan.sha256)
        assert sweep_orphans(session, store, older_than=timedelta(seconds=-5)) >= 1
    assert not store.exists(orphan.sha256)


def test_scans_in_the_bucket_travel_with_the_case_and_a_bad_copy_retries(
    s3_worker, s3_client, store, terminal, staff, engine
):
    window = terminal("FM-01")
    good = stage(s3_client, window, PDF + b"s3 delivery").get_json()
    bad_data = PDF + b"s3 corrupted once"
    bad = stage(s3_client, window, bad_data).get_json()
    assert store.exists(good["sha256"]) and store.exists(bad["sha256"])
    store.client.put_object(Bucket=BUCKET, Key=store.key(bad["sha256"]), Body=bad_data[:-1])

    fine = submit(s3_client, window, with_scans(M01=[good["id"]])).get_json()["case_no"]
    broken = submit(s3_client, window, with_scans(M01=[bad["id"]])).get_json()["case_no"]
    received(engine, fine)  # the worker read the object back and checked its SHA-256

    assert "SHA-256" in wait_for(lambda: delivery_error(engine, broken), 20, "a failed delivery")
    assert status_of(engine, broken) == "submitted"
    store.client.put_object(Bucket=BUCKET, Key=store.key(bad["sha256"]), Body=bad_data)
    received(engine, broken)

    clerk = staff("clerk", "530102")
    listed = s3_client.get(f"/api/v1/cases/{fine}/files", headers=clerk).get_json()
    got = s3_client.get(f"/api/v1/cases/{fine}/files/{listed[0]['id']}", headers=clerk)
    assert got.status_code == 200 and got.data == PDF + b"s3 delivery"


def test_s3_needs_a_bucket_and_https_in_production():
    from service.config import ConfigError, load_settings

    base = {"DATABASE_URL": "postgresql://x/y", "REDIS_URL": "redis://x", "TONGBAN_ENV": "test"}
    with pytest.raises(ConfigError, match="TONGBAN_S3_BUCKET"):
        load_settings({**base, "TONGBAN_FILE_STORE": "s3"})
    with pytest.raises(ConfigError, match="TONGBAN_FILE_STORE"):
        load_settings({**base, "TONGBAN_FILE_STORE": "ftp"})
    production = {
        **base,
        "DATABASE_URL": "postgresql://app:pw@x/y",
        "REDIS_URL": "redis://:pw@x",
        "TONGBAN_ENV": "production",
        "TONGBAN_BIND": "127.0.0.1:8000",
        "TONGBAN_DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "TONGBAN_SECRET_KEY": secrets.token_urlsafe(48),
        "TONGBAN_CHAIN_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "TONGBAN_CHECKPOINT_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        **S3_ENV,
        "TONGBAN_S3_ENDPOINT_URL": "http://minio.internal:9000",
    }
    with pytest.raises(ConfigError, match="https"):
        load_settings(production)
    settings = load_settings({**production, "TONGBAN_S3_ENDPOINT_URL": "https://minio.internal"})
    assert settings.s3.prefix == "scans/" and "tongban-test-secret" not in repr(settings)
