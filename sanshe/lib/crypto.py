"""Encryption at rest for identifiers (AES-256-GCM) and a keyed blind index for exact look-up.

The blind index is an HMAC of the normalised value under a separate key, so equality search
works without decrypting and without exposing the value to anyone who reads the table.
Tokens carry a key version ("v1:") so keys can be rotated by re-encrypting in batches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32


class CryptoError(ValueError):
    pass


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except (ValueError, TypeError) as exc:
        raise CryptoError("key is not valid url-safe base64") from exc
    if len(key) != KEY_BYTES:
        raise CryptoError(f"key must be {KEY_BYTES} bytes, got {len(key)}")
    return key


class FieldCipher:
    def __init__(self, key: bytes, *, version: str = "v1") -> None:
        self._aead = AESGCM(key)
        self._version = version

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self._version.encode())
        return f"{self._version}:" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        version, _, body = token.partition(":")
        if version != self._version:
            raise CryptoError(f"unknown key version {version!r}")
        raw = base64.urlsafe_b64decode(body.encode())
        return self._aead.decrypt(raw[:12], raw[12:], version.encode()).decode()


def blind_index(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
