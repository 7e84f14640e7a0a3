"""Encryption of secrets at rest (bot tokens, sessions, wallet keys).

The key is derived from ``SECRET_KEY`` with HKDF, so rotating ``SECRET_KEY`` needs a
re-encryption pass; every ciphertext is authenticated (Fernet: AES-128-CBC + HMAC-SHA256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.settings import get_settings


class DecryptionError(Exception):
    """The ciphertext was not made with this deployment's key, or was altered."""


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"atelier", info=b"secrets-at-rest"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(plaintext: str, *, secret_key: str | None = None) -> str:
    key = secret_key or get_settings().secret_key
    return _fernet(key).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str, *, secret_key: str | None = None) -> str:
    key = secret_key or get_settings().secret_key
    try:
        return _fernet(key).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("secret cannot be decrypted with the current SECRET_KEY") from exc


def fingerprint(value: str, *, secret_key: str | None = None) -> str:
    """A keyed hash of a secret, for uniqueness checks without storing or logging it."""
    key = (secret_key or get_settings().secret_key).encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
