"""Signed links to post media: ``/api/v1/content/{tenant}/media/{item}?u=&p=&exp=&sig=``.

Post media never get the drive's storage links. A fan who may open a post gets, for each item,
a link signed for *them*: the HMAC (a key derived from ``SECRET_KEY`` with its own HKDF
``info``, so it equals no other key of ours) covers the tenant, the media item, the drive file
behind it, the fan's ``users.id``, the purpose (``media`` or ``thumb``) and the expiry. The
route behind it checks the signature and then asks :func:`tenants.content.service.open_media`
again, so a link stops working the moment the fan loses access (a refunded purchase, an
expired subscription). ``<img>`` and ``<video>`` cannot send a bearer token, so the route cannot
tell who fetches: a link a fan forwards works for its holder until it expires (an hour) and
only while that fan may still open the post — no more than the fan could do by saving the file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from functools import lru_cache
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import PermissionDeniedError

PURPOSES = ("media", "thumb")
LINK_TTL_S = 3600
PATH = "/api/v1/content/{tenant_id}/media/{media_id}"
_VERSION = "c1"


class BadMediaLinkError(PermissionDeniedError):
    code = "bad_link"


@lru_cache(maxsize=8)
def _key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"atelier", info=b"content-media-links"
    ).derive(secret_key.encode())


def _mac(
    secret_key: str,
    tenant_id: int,
    media_id: int,
    file_id: int,
    user_id: int,
    purpose: str,
    expires_at: int,
) -> bytes:
    message = json.dumps([_VERSION, tenant_id, media_id, file_id, user_id, purpose, expires_at])
    return hmac.new(_key(secret_key), message.encode(), hashlib.sha256).digest()


def media_link(
    public_base_url: str,
    *,
    tenant_id: int,
    media_id: int,
    file_id: int,
    user_id: int,
    purpose: str,
    secret_key: str,
    expires_in: int = LINK_TTL_S,
    now: float | None = None,
) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    expires_at = int(time.time() if now is None else now) + expires_in
    mac = _mac(secret_key, tenant_id, media_id, file_id, user_id, purpose, expires_at)
    query = {
        "u": user_id,
        "p": purpose,
        "exp": expires_at,
        "sig": base64.urlsafe_b64encode(mac).rstrip(b"=").decode(),
    }
    path = PATH.format(tenant_id=tenant_id, media_id=media_id)
    return f"{public_base_url.rstrip('/')}{path}?{urlencode(query)}"


def verify_media_link(
    *,
    tenant_id: int,
    media_id: int,
    file_id: int,
    user_id: int,
    purpose: str,
    exp: int,
    sig: str,
    secret_key: str,
    now: float | None = None,
) -> None:
    """Accept a link's values or raise :class:`BadMediaLinkError` (403): forged, altered,
    made for another fan, item, file or purpose, or expired."""
    try:
        given = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except (ValueError, binascii.Error):
        raise BadMediaLinkError("this media link is not valid") from None
    expected = _mac(secret_key, tenant_id, media_id, file_id, user_id, purpose, exp)
    if purpose not in PURPOSES or not hmac.compare_digest(given, expected):
        raise BadMediaLinkError("this media link is not valid")
    if (time.time() if now is None else now) >= exp:
        raise BadMediaLinkError("this media link has expired")
