"""Our own signed, expiring download links, for backends that cannot presign (local disk).

A link looks like ``{public_base_url}/files/{key}?exp=1767225600&sig=...`` (plus ``filename``
and ``content_type`` when given). The signature is HMAC-SHA256 over everything the response
depends on — key, expiry, filename and content type — with a key derived from ``SECRET_KEY``
(HKDF, its own ``info``, so it never equals the key that encrypts secrets at rest). Signing
the content type matters: otherwise anyone holding a link to an uploaded file could ask for it
as ``text/html`` and run script on our origin.

The route that serves ``/files/{key}`` calls :func:`verify_download` with the query values and
then streams the object, using :mod:`core.storage.ranges` for ``Range`` requests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import unicodedata
from functools import lru_cache
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.settings import get_settings
from core.storage.base import validate_content_type, validate_key
from core.storage.errors import (
    InvalidContentTypeError,
    InvalidKeyError,
    InvalidSignatureError,
    LinkExpiredError,
)

DOWNLOAD_PATH = "/files/"
"""Where the API mounts the download route; links point under ``public_base_url`` + this."""

_VERSION = "v1"


@lru_cache(maxsize=8)
def _signing_key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"atelier", info=b"storage-download-urls"
    ).derive(secret_key.encode())


def _mac(
    secret_key: str, key: str, expires_at: int, filename: str | None, content_type: str | None
) -> bytes:
    # JSON of a list is an unambiguous encoding: no field can bleed into the next.
    message = json.dumps([_VERSION, key, expires_at, filename, content_type], ensure_ascii=True)
    return hmac.new(_signing_key(secret_key), message.encode(), hashlib.sha256).digest()


def sign_download(
    key: str,
    expires_at: int,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    secret_key: str | None = None,
) -> str:
    """The URL-safe signature of a download of ``key`` valid until ``expires_at`` (Unix time)."""
    validate_key(key)
    if content_type is not None:
        validate_content_type(content_type)
    secret = secret_key or get_settings().secret_key
    mac = _mac(secret, key, int(expires_at), filename, content_type)
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def verify_download(
    key: str,
    exp: int | str,
    sig: str,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    now: float | None = None,
    secret_key: str | None = None,
) -> None:
    """Accept a link's query values or raise.

    :class:`~core.storage.errors.InvalidSignatureError` (403) for a forged, altered or
    malformed link, or one made for another key; :class:`~core.storage.errors.LinkExpiredError`
    (410) for a genuine link whose time is up. The signature is checked first and in constant
    time, so an expired answer also proves the link was once genuine.
    """
    try:
        validate_key(key)
        expires_at = int(exp)
        if content_type is not None:
            validate_content_type(content_type)
        given = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except (ValueError, TypeError, binascii.Error, InvalidKeyError, InvalidContentTypeError) as exc:
        raise InvalidSignatureError("download link is malformed") from exc
    secret = secret_key or get_settings().secret_key
    expected = _mac(secret, key, expires_at, filename, content_type)
    if not hmac.compare_digest(given, expected):
        raise InvalidSignatureError("download link signature does not match")
    if (time.time() if now is None else now) >= expires_at:
        raise LinkExpiredError("download link has expired", expired_at=expires_at)


def signed_download_url(
    key: str,
    *,
    expires_in: int,
    public_base_url: str,
    filename: str | None = None,
    content_type: str | None = None,
    secret_key: str | None = None,
    now: float | None = None,
) -> str:
    """A complete link to ``key`` under ``{public_base_url}/files/``, valid ``expires_in`` s."""
    expires_at = int(time.time() if now is None else now) + expires_in
    sig = sign_download(
        key, expires_at, filename=filename, content_type=content_type, secret_key=secret_key
    )
    query: dict[str, str | int] = {"exp": expires_at, "sig": sig}
    if filename is not None:
        query["filename"] = filename
    if content_type is not None:
        query["content_type"] = content_type
    path = quote(key, safe="/")
    return f"{public_base_url.rstrip('/')}{DOWNLOAD_PATH}{path}?{urlencode(query)}"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A ``Content-Disposition`` value that survives any file name (RFC 6266 + RFC 8187).

    Old clients read the ASCII ``filename=`` fallback, current ones the UTF-8 ``filename*=``;
    quotes, backslashes and control characters are dropped so the header cannot be split.
    """
    cleaned = "".join(
        ch for ch in filename if unicodedata.category(ch) not in ("Cc", "Zl", "Zp")
    ).strip()
    cleaned = cleaned.replace("/", "_").replace("\\", "_") or "download"
    fallback = (
        unicodedata.normalize("NFKD", cleaned).encode("ascii", "ignore").decode().replace('"', "")
    )
    fallback = fallback.strip() or "download"
    kind = "inline" if inline else "attachment"
    encoded = quote(cleaned, safe="")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
