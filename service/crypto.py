"""Personal data at rest: AES-GCM encryption and keyed hashes for look-ups.

One 32-byte data key (TONGBAN_DATA_KEY) is split with HKDF into an encryption key and a lookup
key, so a leaked lookup hash never helps decrypt, and the hash cannot be brute-forced offline
from the small ID-number space without the key.
"""

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"  # leading byte names the key scheme, so keys can be rotated later


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


class FieldCipher:
    """Encrypts and hashes single personal-data fields."""

    def __init__(self, data_key: bytes):
        self._aead = AESGCM(_derive(data_key, b"tongban field encryption"))
        self._lookup_key = _derive(data_key, b"tongban lookup hash")

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """Encrypt; `context` (e.g. the column name) is bound in so values cannot be swapped."""
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        if blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        nonce, body = blob[1:13], blob[13:]
        return self._aead.decrypt(nonce, body, context.encode()).decode()

    def lookup_hash(self, value: str, context: str) -> str:
        """A keyed hash for equality look-ups of a normalised value."""
        msg = f"{context}\x00{value}".encode()
        return hmac.new(self._lookup_key, msg, hashlib.sha256).hexdigest()
