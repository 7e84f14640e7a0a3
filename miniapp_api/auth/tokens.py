"""Bearer tokens of the Mini App: who (tenant, user) until when, signed with our secret.

A token is ``base64url(json payload) "." base64url(HMAC-SHA256)``, keyed with a key derived
from ``SECRET_KEY`` for this purpose only (HKDF ``info``), so it never equals the key of
download links or of encrypted secrets. Stateless on purpose: checking one costs no database
or Redis round trip, which keeps every API call cheap; the price is that a token outlives a
disabled tenant by at most its short lifetime (``MINIAPP_TOKEN_TTL``, an hour by default).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import UnauthorizedError

_VERSION = 1


class InvalidTokenError(UnauthorizedError):
    code = "invalid_token"


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The signed-in fan: ids only, as every query needs them (``user_id`` is ``users.id``)."""

    tenant_id: int
    user_id: int
    telegram_id: int
    bot_id: int
    expires_at: int


@lru_cache(maxsize=8)
def _key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"atelier", info=b"miniapp-bearer-tokens"
    ).derive(secret_key.encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(
    *,
    tenant_id: int,
    user_id: int,
    telegram_id: int,
    bot_id: int,
    ttl: int,
    secret_key: str,
    now: float | None = None,
) -> tuple[str, int]:
    """A token and its expiry (Unix time)."""
    expires_at = int(time.time() if now is None else now) + ttl
    payload = json.dumps(
        [_VERSION, tenant_id, user_id, telegram_id, bot_id, expires_at], separators=(",", ":")
    ).encode()
    mac = hmac.new(_key(secret_key), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}", expires_at


def read_token(token: str, *, secret_key: str, now: float | None = None) -> CurrentUser:
    """The user a genuine, unexpired token names, else :class:`InvalidTokenError` (401)."""
    try:
        body, _, sig = token.partition(".")
        payload, given = _unb64(body), _unb64(sig)
    except (ValueError, binascii.Error):
        raise InvalidTokenError("the token is malformed") from None
    expected = hmac.new(_key(secret_key), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise InvalidTokenError("the token is not valid")
    version, tenant_id, user_id, telegram_id, bot_id, expires_at = json.loads(payload)
    if version != _VERSION:
        raise InvalidTokenError("the token is not valid")
    if (time.time() if now is None else now) >= expires_at:
        raise InvalidTokenError("the token has expired; sign in again")
    return CurrentUser(tenant_id, user_id, telegram_id, bot_id, expires_at)
