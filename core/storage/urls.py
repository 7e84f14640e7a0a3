"""Our own signed, expiring download links, for backends that cannot presign (local disk).

A link looks like ``{public_base_url}/files/{key}?exp=1767225600&sig=...`` (plus ``filename``
and ``content_type`` when given). The signature is HMAC-SHA256 over everything the response
depends on — key, expiry, filename and content type — with a key derived from ``SECRET_KEY``
(HKDF, its own ``info``, so it never equals the key that encrypts secrets at rest). Signing
the content type matters: otherwise anyone holding a link to an uploaded file could ask for it
as ``text/html`` and run script on our origin.

The route that serves ``/files/{key}`` calls :func:`verify_download` with the query values and
then streams the object, using :mod:`core.storage.ranges` for ``Range`` requests.

A drive page carries up to a hundred of these links (its files' thumbnails; a file's own link
comes when it is opened), made in one loop (:func:`signed_inline_urls`) at a few microseconds
each: HMAC from the key's pads hashed once, over a length-prefixed message, keys and content
types that need no escaping written as they are. Expiry times are rounded up to
:data:`EXPIRY_STEP`, so the link to a file stays the same for a while and the browser's cache
serves a thumbnail again instead of fetching it under a new URL on every page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

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

_VERSION = "v2"
EXPIRY_STEP = 300
"""Expiry times are multiples of this (seconds) once a link lives at least twice as long."""

# Keys our own code makes (``drive/1/2/<hex>``): valid as they are and nothing to escape in a
# URL. Segments starting with "." ("..", the local backend's reserved names) and anything else
# go through the full :func:`validate_key` and ``quote``.
_PLAIN_KEY = re.compile(
    r"(?:[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,254}/){0,16}[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,254}"
).fullmatch
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _signing_key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"atelier", info=b"storage-download-urls"
    ).derive(secret_key.encode())


def _field(value: str | None) -> str:
    # Length-prefixed, so no field can bleed into the next; None is not "".
    return "-" if value is None else f"{len(value)}:{value}"


@lru_cache(maxsize=256)
def _checked_type(content_type: str) -> str:
    """``content_type`` validated and escaped for a query string (a page repeats a handful)."""
    validate_content_type(content_type)
    return quote_plus(content_type)


class LinkSigner:
    """HMAC-SHA256 of download links under one secret. The key's inner and outer pads are
    hashed once here (RFC 2104), so a signature costs two hash copies instead of a keyed
    context built per link (half the time; a page signs up to a hundred)."""

    def __init__(self, secret_key: str) -> None:
        key = _signing_key(secret_key).ljust(64, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))

    def mac(
        self, key: str, expires_at: int, filename: str | None, content_type: str | None
    ) -> bytes:
        message = f"{_VERSION}|{_field(key)}|{expires_at}|{_field(filename)}|{_field(content_type)}"
        return self._mac(message.encode())

    def _mac(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def signature(
        self, key: str, expires_at: int, filename: str | None, content_type: str | None
    ) -> str:
        mac = self.mac(key, expires_at, filename, content_type)
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def url(
        self,
        base_url: str,
        key: str,
        expires_at: int,
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """``{base_url}/files/{key}?exp=...&sig=...`` (``base_url`` without a trailing "/")."""
        if filename is None:
            return self.inline_urls(base_url, [(key, content_type)], expires_at)[0]
        validate_key(key)
        mac = self.mac(key, expires_at, filename, content_type)
        query = f"exp={expires_at}&sig={base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        query += f"&filename={quote_plus(filename)}"
        if content_type is not None:
            query += f"&content_type={_checked_type(content_type)}"
        return f"{base_url}{DOWNLOAD_PATH}{quote(key, safe='/')}?{query}"

    def inline_urls(
        self, base_url: str, objects: Iterable[tuple[str, str | None]], expires_at: int
    ) -> list[str]:
        """Links without a file name to each ``(key, content_type)``, all valid until
        ``expires_at``: what a page of files needs, written out in one loop (a page makes up
        to a hundred; the message is :meth:`mac`'s with no file name)."""
        start = f"{base_url}{DOWNLOAD_PATH}"
        head = f"{_VERSION}|"
        middle = f"|{expires_at}|-|"
        exp = f"?exp={expires_at}&sig="
        urls = []
        for key, content_type in objects:
            if _PLAIN_KEY(key) is None:
                validate_key(key)
                path = quote(key, safe="/")
            else:
                path = key
            if content_type is None:
                typed, tail = "-", ""
            else:
                typed, tail = f"{len(content_type)}:{content_type}", _type_param(content_type)
            mac = self._mac(f"{head}{len(key)}:{key}{middle}{typed}".encode())
            sig = base64.urlsafe_b64encode(mac)[:43].decode()  # 32 bytes: one "=" of padding
            urls.append(f"{start}{path}{exp}{sig}{tail}")
        return urls


@lru_cache(maxsize=256)
def _type_param(content_type: str) -> str:
    return f"&content_type={_checked_type(content_type)}"


@lru_cache(maxsize=8)
def signer(secret_key: str) -> LinkSigner:
    return LinkSigner(secret_key)


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
        _checked_type(content_type)
    secret = secret_key or get_settings().secret_key
    return signer(secret).signature(key, int(expires_at), filename, content_type)


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
    expected = signer(secret).mac(key, expires_at, filename, content_type)
    if not hmac.compare_digest(given, expected):
        raise InvalidSignatureError("download link signature does not match")
    if (time.time() if now is None else now) >= expires_at:
        raise LinkExpiredError("download link has expired", expired_at=expires_at)


def expiry(expires_in: int, now: float | None = None) -> int:
    """When a link made ``now`` for ``expires_in`` seconds ends: at least ``expires_in`` from
    now, rounded up to :data:`EXPIRY_STEP` when that adds at most half of the lifetime."""
    expires_at = int(time.time() if now is None else now) + expires_in
    if expires_in >= 2 * EXPIRY_STEP:
        expires_at += -expires_at % EXPIRY_STEP
    return expires_at


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
    """A complete link to ``key`` under ``{public_base_url}/files/``, valid at least
    ``expires_in`` s (see :func:`expiry`)."""
    secret = secret_key or get_settings().secret_key
    return signer(secret).url(
        public_base_url.rstrip("/"),
        key,
        expiry(expires_in, now),
        filename=filename,
        content_type=content_type,
    )


def signed_inline_urls(
    objects: Iterable[tuple[str, str | None]],
    *,
    expires_in: int,
    public_base_url: str,
    secret_key: str | None = None,
    now: float | None = None,
) -> list[str]:
    """:func:`signed_download_url` (without a file name) for each ``(key, content_type)``."""
    secret = secret_key or get_settings().secret_key
    return signer(secret).inline_urls(public_base_url.rstrip("/"), objects, expiry(expires_in, now))


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
