"""Presigned S3 ``GET`` links made in microseconds (SigV4 query authentication).

botocore's ``generate_presigned_url`` costs 0.4-1.7 ms a link (its event hooks, parameter
validation and endpoint resolution run for every call), and the drive lists a couple of
hundred links a page (each file and its thumbnail): up to 300 ms of a page on S3. The
signature itself is a few hashes. :class:`S3LinkSigner` makes the same links:

- what botocore decides once per client — the URL a key goes under (path or virtual-host
  style, the endpoint) and the region in the signature's scope — is read from one link
  botocore makes (:meth:`S3LinkSigner.from_client`), so the two agree by construction;
- the signing follows AWS's "Authenticating requests: using query parameters" (SigV4):
  canonical request with ``UNSIGNED-PAYLOAD`` and the ``host`` header, the derived key cached
  per day. Tests compare our link with botocore's byte for byte and fetch ours from a real
  S3 server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from core.storage.base import MAX_EXPIRES_IN
from core.storage.urls import EXPIRY_STEP

ALGORITHM = "AWS4-HMAC-SHA256"
_PROBE_KEY = "atelier-probe"


@dataclass(frozen=True, slots=True)
class S3Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


@lru_cache(maxsize=1024)
def _quote(value: str) -> str:
    # Cached: but for the time (once per step) every query value repeats from link to link.
    return quote(value, safe="-_.~")


_PLAIN_PATH = re.compile(r"[A-Za-z0-9/._~-]*").fullmatch


@lru_cache(maxsize=16)
def _signing_key(secret_key: str, day: str, region: str) -> bytes:
    key = hmac.digest(f"AWS4{secret_key}".encode(), day.encode(), "sha256")
    for part in (region, "s3", "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


class S3LinkSigner:
    """Presigned ``GET`` links to objects of one bucket, as one boto3 client would make them."""

    def __init__(self, client: Any, bucket: str) -> None:
        probe = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": _PROBE_KEY}, ExpiresIn=60
        )
        parts = urlsplit(probe)
        self._client = client
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._host = parts.netloc
        self._path = parts.path.removesuffix(_PROBE_KEY)
        scope = parse_qs(parts.query)["X-Amz-Credential"][0].split("/")
        self._region = scope[2]

    def _credentials(self) -> S3Credentials:
        # The client's own credentials object: refreshable ones (instance roles, SSO) renew
        # themselves when read. botocore keeps no public accessor on a client. (There are
        # credentials: without them botocore refused the probe link in __init__.)
        frozen = self._client._request_signer._credentials.get_frozen_credentials()
        return S3Credentials(frozen.access_key, frozen.secret_key, frozen.token)

    def url(
        self,
        key: str,
        *,
        expires_in: int,
        params: Mapping[str, str] = {},
        signed_at: float | None = None,
    ) -> str:
        """A link to ``key`` (the object's full key) valid ``expires_in`` s from ``signed_at``
        (now by default), with ``params`` such as ``response-content-type`` signed in."""
        return self.urls([(key, params)], expires_in=expires_in, signed_at=signed_at)[0]

    def urls(
        self,
        objects: Iterable[tuple[str, Mapping[str, str]]],
        *,
        expires_in: int,
        signed_at: float | None = None,
    ) -> list[str]:
        """:meth:`url` for each ``(key, params)``; the credentials, the scope and the signing
        key are worked out once for all of them."""
        credentials = self._credentials()
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at))
        day = amz_date[:8]
        scope = f"{day}/{self._region}/s3/aws4_request"
        common = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{credentials.access_key}/{scope}",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(expires_in),
            "X-Amz-SignedHeaders": "host",
        }
        if credentials.token:
            common["X-Amz-Security-Token"] = credentials.token
        signing_key = _signing_key(credentials.secret_key, day, self._region)
        head = f"{ALGORITHM}\n{amz_date}\n{scope}\n"
        tail = f"\nhost:{self._host}\n\nhost\nUNSIGNED-PAYLOAD"
        urls = []
        for key, params in objects:
            query = {**params, **common}
            canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))
            path = self._path + (key if _PLAIN_PATH(key) else quote(key, safe="/~"))
            digest = hashlib.sha256(f"GET\n{path}\n{canonical_query}{tail}".encode()).hexdigest()
            signature = hmac.digest(signing_key, f"{head}{digest}".encode(), "sha256").hex()
            urls.append(f"{self._origin}{path}?{canonical_query}&X-Amz-Signature={signature}")
        return urls


def stable_window(expires_in: int, now: float | None = None) -> tuple[int, int]:
    """When to say a link was signed and for how long, so that links made within one
    :data:`~core.storage.urls.EXPIRY_STEP` are identical (the browser's cache then serves a
    thumbnail again) and each still lives at least ``expires_in`` seconds from ``now``."""
    now = int(time.time() if now is None else now)
    if expires_in < 2 * EXPIRY_STEP or expires_in + EXPIRY_STEP > MAX_EXPIRES_IN:
        return now, expires_in
    return now - now % EXPIRY_STEP, expires_in + EXPIRY_STEP
