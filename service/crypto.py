"""Personal data at rest: AES-GCM encryption under a key ring, and keyed hashes for look-ups.

Each data key (32 bytes) is stretched with HKDF into its AES-GCM key. A ciphertext names the
key that sealed it, so keys can be rotated: the current key encrypts, older keys only decrypt
until `python -m service reencrypt` has moved everything to the current one and
`retire-key` has checked that nothing still needs them (README, "Keys").

Ciphertext formats:

- v2: ``0x02 | key id (1 byte) | nonce (12) | AES-GCM body``; the associated data binds the
  table, the column and the row (``cases.phone_enc:330102-20260101-0001``), so a value copied
  into another row or column does not decrypt.
- v1 (written before rotation existed): ``0x01 | nonce | body`` under key 1, with only the
  column's old context name as associated data. Still read, until re-encrypted.

Look-up hashes (blind indexes) are HMAC-SHA-256 under a lookup key that does not rotate with
the data keys: rotating it would mean recomputing every hash, and a leaked hash never helps
decrypt (README, "Keys").
"""

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

V1 = 1
V2 = 2
_NONCE = 12


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


def derived_lookup_key(data_key: bytes) -> bytes:
    """The lookup key that a data key gave before the lookup key could be set on its own."""
    return _derive(data_key, b"tongban lookup hash")


@dataclass(frozen=True)
class Field:
    """One encrypted column: where it lives, which column names its row, and the context
    its v1 ciphertexts were bound to."""

    table: str
    column: str
    row_key: str  # the column whose value identifies the row (known before the row's insert)
    legacy: str | None = None  # v1 associated data; None for columns born under v2

    def associated_data(self, row: str) -> bytes:
        return f"{self.table}.{self.column}:{row}".encode()


class UnknownKey(ValueError):
    """A ciphertext names a key that is not in the ring (retired, or never configured)."""


def key_id_of(blob: bytes) -> int:
    """The id of the key that sealed `blob` (v1 ciphertexts are key 1's)."""
    if blob[:1] == bytes([V2]):
        return blob[1]
    if blob[:1] == bytes([V1]):
        return 1
    raise ValueError("unknown ciphertext version")


class FieldCipher:
    """Encrypts, decrypts and hashes single personal-data fields.

    `keys` is one data key (then it is key 1) or a mapping of key id -> data key; `current`
    (default: the highest id) encrypts. `lookup_key` keys the blind indexes; by default it is
    derived from key 1, as it always was.
    """

    def __init__(
        self,
        keys: bytes | Mapping[int, bytes],
        *,
        current: int | None = None,
        lookup_key: bytes | None = None,
    ):
        ring = {1: keys} if isinstance(keys, bytes) else dict(keys)
        if not ring or any(not 1 <= k <= 255 for k in ring):
            raise ValueError("key ids are 1 to 255")
        self.current = max(ring) if current is None else current
        if self.current not in ring:
            raise ValueError(f"current key {self.current} is not in the ring")
        self._aead = {k: AESGCM(_derive(v, b"tongban field encryption")) for k, v in ring.items()}
        if lookup_key is None:
            if 1 not in ring:
                raise ValueError("without key 1, the lookup key must be given")
            lookup_key = derived_lookup_key(ring[1])
        self._lookup_key = lookup_key

    @classmethod
    def from_settings(cls, settings: Any) -> "FieldCipher":
        """The app's cipher: the configured key ring (or TONGBAN_DATA_KEY as key 1), and the
        lookup key (pinned, or derived from TONGBAN_DATA_KEY as it always was)."""
        ring = settings.data_keys or {1: settings.data_key}
        return cls(
            ring,
            current=settings.current_key_id if settings.data_keys else 1,
            lookup_key=settings.lookup_key or derived_lookup_key(settings.data_key),
        )

    @property
    def lookup_key(self) -> bytes:
        """The blind indexes' key, for an operator to pin (`python -m service lookup-key`)."""
        return self._lookup_key

    @property
    def key_ids(self) -> tuple[int, ...]:
        return tuple(sorted(self._aead))

    def encrypt(self, plaintext: str, field: Field, row: str) -> bytes:
        """Seal under the current key, bound to the field and the row it is stored in."""
        nonce = os.urandom(_NONCE)
        body = self._aead[self.current].encrypt(
            nonce, plaintext.encode(), field.associated_data(row)
        )
        return bytes([V2, self.current]) + nonce + body

    def encrypt_v1(self, plaintext: str, field: Field) -> bytes:
        """A v1 ciphertext under key 1, bound to the column only, as written before v2: for
        fixtures that share one value across many rows (bench) and tests of reading v1."""
        assert field.legacy is not None, "this column was born under v2"
        nonce = os.urandom(_NONCE)
        return (
            bytes([V1])
            + nonce
            + self._aead[1].encrypt(nonce, plaintext.encode(), field.legacy.encode())
        )

    def decrypt(self, blob: bytes, field: Field, row: str) -> str:
        """Open a v2 ciphertext of this field and row, or a v1 one of this field's column."""
        key_id = key_id_of(blob)
        aead = self._aead.get(key_id)
        if aead is None:
            raise UnknownKey(f"ciphertext sealed by key {key_id}, which is not configured")
        if blob[0] == V1:
            if field.legacy is None:
                raise ValueError("a v1 ciphertext in a column born under v2")
            nonce, body = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
            return aead.decrypt(nonce, body, field.legacy.encode()).decode()
        nonce, body = blob[2 : 2 + _NONCE], blob[2 + _NONCE :]
        return aead.decrypt(nonce, body, field.associated_data(row)).decode()

    def is_current(self, blob: bytes) -> bool:
        """Whether `blob` is already v2 under the current key (nothing for reencrypt to do)."""
        return blob[:1] == bytes([V2]) and blob[1] == self.current

    def lookup_hash(self, value: str, context: str) -> str:
        """A keyed hash for equality look-ups of a normalised value."""
        msg = f"{context}\x00{value}".encode()
        return hmac.new(self._lookup_key, msg, hashlib.sha256).hexdigest()
