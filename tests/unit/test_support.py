"""Config refusals, field encryption, log redaction and problem field paths."""

import base64

import pytest
from cryptography.exceptions import InvalidTag

from service.config import ConfigError, load_settings
from service.crypto import FieldCipher
from service.errors import flatten_messages
from service.logs import redact
from service.sealed import CASE_ID_NUMBER, CASE_PHONE

pytestmark = pytest.mark.unit

URLS = {"DATABASE_URL": "postgresql://x@h/db", "REDIS_URL": "redis://h:6379/0"}


def test_production_refuses_to_start_without_keys(tmp_path):
    with pytest.raises(ConfigError, match="TONGBAN_DATA_KEY"):
        load_settings({**URLS, "TONGBAN_ENV": "production", "TONGBAN_VAR_DIR": str(tmp_path)})
    key = base64.urlsafe_b64encode(b"k" * 32).decode()
    with pytest.raises(ConfigError, match="TONGBAN_SECRET_KEY"):
        load_settings({**URLS, "TONGBAN_ENV": "production", "TONGBAN_DATA_KEY": key})
    with pytest.raises(ConfigError, match="TONGBAN_CHAIN_KEY"):
        load_settings(
            {
                **URLS,
                "TONGBAN_ENV": "production",
                "TONGBAN_DATA_KEY": key,
                "TONGBAN_SECRET_KEY": "s" * 40,
            }
        )
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings(
            {
                **URLS,
                "TONGBAN_ENV": "production",
                "TONGBAN_DATA_KEY": key,
                "TONGBAN_CHAIN_KEY": key,
                "TONGBAN_SECRET_KEY": "short",
            }
        )


def test_development_makes_keys_once_under_var(tmp_path):
    first = load_settings({**URLS, "TONGBAN_VAR_DIR": str(tmp_path)})
    second = load_settings({**URLS, "TONGBAN_VAR_DIR": str(tmp_path)})
    assert (tmp_path / "data.key").exists()
    assert first.data_key == second.data_key and len(first.data_key) == 32
    assert first.sqlalchemy_url.startswith("postgresql+psycopg://")


def test_missing_urls_are_named():
    with pytest.raises(ConfigError, match="REDIS_URL"):
        load_settings({"DATABASE_URL": "postgresql://x@h/db"})


def test_short_data_key_refused(tmp_path):
    with pytest.raises(ConfigError, match="32 bytes"):
        load_settings({**URLS, "TONGBAN_DATA_KEY": base64.urlsafe_b64encode(b"k" * 8).decode()})


def test_cipher_round_trip_binds_column_and_row_and_hash_is_keyed():
    cipher = FieldCipher(b"a" * 32)
    blob = cipher.encrypt("11010519491231002X", CASE_ID_NUMBER, "530124-20261206-00001")
    assert b"11010519491231002X" not in blob
    assert blob[:2] == bytes([2, 1])  # v2, key 1
    assert cipher.decrypt(blob, CASE_ID_NUMBER, "530124-20261206-00001") == "11010519491231002X"
    with pytest.raises(InvalidTag):  # another column of the same row
        cipher.decrypt(blob, CASE_PHONE, "530124-20261206-00001")
    with pytest.raises(InvalidTag):  # the same column of another row
        cipher.decrypt(blob, CASE_ID_NUMBER, "530124-20261206-00002")
    other = FieldCipher(b"b" * 32)
    assert cipher.lookup_hash("x", "c") == cipher.lookup_hash("x", "c")
    assert cipher.lookup_hash("x", "c") != other.lookup_hash("x", "c")


def test_redact_masks_id_and_mobile_numbers():
    text = "id 11010519491231002X phone 13800001234 case 530124-20261125-00001"
    out = redact(text)
    assert "11010519491231002X" not in out and "13800001234" not in out
    assert "530124-20261125-00001" in out


def test_nested_messages_become_dotted_fields():
    messages = {"json": {"applicant": {"id_number": ["bad"]}, "materials": {0: {"code": ["x"]}}}}
    assert flatten_messages(messages) == [
        {"field": "applicant.id_number", "messages": ["bad"]},
        {"field": "materials.0.code", "messages": ["x"]},
    ]
