"""Validating Telegram Mini App ``initData`` for one bot.

Telegram signs the launch data two ways and either proves it: the ``hash`` (HMAC-SHA256 keyed
with ``HMAC("WebAppData", bot token)``) and the Ed25519 ``signature`` over ``"{bot_id}:WebAppData"``
plus the same lines, made with Telegram's key. Both are checked in constant time. aiogram's
helpers do not look at ``auth_date``, so freshness is checked here: launch data older than
``max_age`` (or from the future, beyond a small clock skew) is refused, which bounds how long
a leaked ``initData`` string can be replayed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core.errors import UnauthorizedError

CLOCK_SKEW_S = 60
MAX_INIT_DATA_CHARS = 8192


class InvalidInitDataError(UnauthorizedError):
    code = "invalid_init_data"


@dataclass(frozen=True, slots=True)
class WebAppUser:
    id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None


@dataclass(frozen=True, slots=True)
class InitData:
    user: WebAppUser
    auth_date: int
    start_param: str | None


def _fields(init_data: str) -> dict[str, str]:
    if not init_data or len(init_data) > MAX_INIT_DATA_CHARS:
        raise InvalidInitDataError("initData is missing or too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidInitDataError("initData is not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InvalidInitDataError("initData repeats a field")
    return fields


def _lines(fields: dict[str, str], *, drop: Iterable[str]) -> str:
    skipped = set(drop)
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k not in skipped)


def hash_matches(fields: dict[str, str], bot_token: str) -> bool:
    given = fields.get("hash", "")
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, _lines(fields, drop={"hash"}).encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), given)


def signature_matches(fields: dict[str, str], bot_id: int, public_keys: Iterable[bytes]) -> bool:
    raw = fields.get("signature")
    if not raw:
        return False
    try:
        signature = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        return False
    message = f"{bot_id}:WebAppData\n{_lines(fields, drop={'hash', 'signature'})}".encode()
    for key in public_keys:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
        except (InvalidSignature, ValueError):
            continue
        return True
    return False


def _user(raw: str | None) -> WebAppUser:
    try:
        data: Any = json.loads(raw or "")
        user_id = data["id"]
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise TypeError
        return WebAppUser(
            id=user_id,
            first_name=str(data.get("first_name") or ""),
            last_name=data.get("last_name"),
            username=data.get("username"),
            language_code=data.get("language_code"),
        )
    except (ValueError, TypeError, KeyError):
        raise InvalidInitDataError("initData carries no valid user") from None


def validate_init_data(
    init_data: str,
    *,
    bot_id: int,
    bot_token: str,
    public_keys: Iterable[bytes],
    max_age: int,
    now: float | None = None,
) -> InitData:
    """The launch data if ``hash`` or ``signature`` proves it and it is fresh, else 401."""
    fields = _fields(init_data)
    if not (hash_matches(fields, bot_token) or signature_matches(fields, bot_id, public_keys)):
        raise InvalidInitDataError("initData signature does not match this bot")
    try:
        auth_date = int(fields["auth_date"])
    except (KeyError, ValueError):
        raise InvalidInitDataError("initData has no auth_date") from None
    current = time.time() if now is None else now
    if auth_date < current - max_age or auth_date > current + CLOCK_SKEW_S:
        raise InvalidInitDataError("initData is too old; reopen the Mini App")
    return InitData(
        user=_user(fields.get("user")),
        auth_date=auth_date,
        start_param=fields.get("start_param"),
    )
