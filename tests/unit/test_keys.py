"""The key ring: ciphertext versions, key ids, rotation, and reading the ring from settings."""

import base64
import secrets

import pytest
from cryptography.exceptions import InvalidTag

from service.config import ConfigError, load_settings
from service.crypto import FieldCipher, UnknownKey, derived_lookup_key, key_id_of
from service.sealed import CASE_ID_NUMBER, CASE_NAME

pytestmark = pytest.mark.unit

URLS = {"DATABASE_URL": "postgresql://x@h/db", "REDIS_URL": "redis://h:6379/0"}
ONE, TWO = b"1" * 32, b"2" * 32
CASE = "530124-20261206-00001"


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def test_a_v1_ciphertext_still_opens_and_is_known_as_key_1s():
    old = FieldCipher(ONE)
    blob = old.encrypt_v1("11010519491231002X", CASE_ID_NUMBER)
    assert blob[0] == 1 and key_id_of(blob) == 1
    rotated = FieldCipher({2: TWO, 1: ONE})
    assert rotated.decrypt(blob, CASE_ID_NUMBER, CASE) == "11010519491231002X"
    assert not rotated.is_current(blob)


def test_the_current_key_encrypts_and_older_keys_only_decrypt():
    before = FieldCipher(ONE).encrypt("张三", CASE_NAME, CASE)
    ring = FieldCipher({1: ONE, 2: TWO}, current=2)
    after = ring.encrypt("张三", CASE_NAME, CASE)
    assert key_id_of(before) == 1 and key_id_of(after) == 2 and ring.is_current(after)
    assert ring.decrypt(before, CASE_NAME, CASE) == ring.decrypt(after, CASE_NAME, CASE) == "张三"
    retired = FieldCipher({2: TWO}, lookup_key=derived_lookup_key(ONE))
    assert retired.decrypt(after, CASE_NAME, CASE) == "张三"
    with pytest.raises(UnknownKey):
        retired.decrypt(before, CASE_NAME, CASE)


def test_a_key_id_cannot_be_forged_onto_another_key():
    ring = FieldCipher({1: ONE, 2: TWO}, current=2)
    blob = bytearray(ring.encrypt("张三", CASE_NAME, CASE))
    blob[1] = 1  # claims key 1, sealed by key 2
    with pytest.raises(InvalidTag):
        ring.decrypt(bytes(blob), CASE_NAME, CASE)


def test_lookup_hashes_do_not_change_with_rotation():
    plain = FieldCipher(ONE)
    rotated = FieldCipher({2: TWO, 1: ONE}, current=2)
    pinned = FieldCipher({2: TWO}, lookup_key=derived_lookup_key(ONE))
    hashes = {c.lookup_hash("张三", "applicant_name") for c in (plain, rotated, pinned)}
    assert len(hashes) == 1
    assert FieldCipher(TWO).lookup_hash("张三", "applicant_name") not in hashes


def test_the_ring_from_settings_puts_the_first_key_first():
    settings = load_settings(
        {**URLS, "TONGBAN_DATA_KEY": b64(ONE), "TONGBAN_DATA_KEYS": f"2:{b64(TWO)},1:{b64(ONE)}"}
    )
    cipher = FieldCipher.from_settings(settings)
    assert cipher.current == 2 and cipher.key_ids == (1, 2)
    assert cipher.lookup_key == derived_lookup_key(ONE)
    alone = FieldCipher.from_settings(load_settings({**URLS, "TONGBAN_DATA_KEY": b64(ONE)}))
    assert alone.current == 1 and alone.key_ids == (1,)


def test_a_key_file_is_read_like_the_variable(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"3:{b64(TWO)}\n1:{b64(ONE)}\n")
    settings = load_settings(
        {**URLS, "TONGBAN_DATA_KEY": b64(ONE), "TONGBAN_DATA_KEYS_FILE": str(path)}
    )
    assert settings.current_key_id == 3 and set(settings.data_keys) == {1, 3}


def test_production_without_key_1_needs_the_lookup_key_pinned():
    prod = {
        "DATABASE_URL": "postgresql://app:Zq3-secret@db.internal/tongban",
        "REDIS_URL": "redis://:Rk8-secret@redis.internal:6379/0",
        "TONGBAN_ENV": "production",
        "TONGBAN_BIND": "127.0.0.1:8000",
        "TONGBAN_SECRET_KEY": secrets.token_urlsafe(48),
        "TONGBAN_CHAIN_KEY": b64(secrets.token_bytes(32)),
        "TONGBAN_CHECKPOINT_KEY": b64(secrets.token_bytes(32)),
    }
    two, lookup = secrets.token_bytes(32), secrets.token_bytes(32)
    with pytest.raises(ConfigError, match="TONGBAN_DATA_KEY"):
        load_settings({**prod, "TONGBAN_DATA_KEYS": f"2:{b64(two)}"})
    settings = load_settings(
        {**prod, "TONGBAN_DATA_KEYS": f"2:{b64(two)}", "TONGBAN_LOOKUP_KEY": b64(lookup)}
    )
    cipher = FieldCipher.from_settings(settings)
    assert cipher.key_ids == (2,) and cipher.lookup_key == lookup


@pytest.mark.parametrize(
    "ring",
    ["2", "x:" + "A" * 44, f"0:{'A' * 43}=", f"2:{'A' * 43}=,2:{'A' * 43}=", "2:short"],
)
def test_a_malformed_ring_is_refused(ring):
    with pytest.raises(ConfigError, match="TONGBAN_DATA_KEYS"):
        load_settings({**URLS, "TONGBAN_DATA_KEY": b64(ONE), "TONGBAN_DATA_KEYS": ring})
