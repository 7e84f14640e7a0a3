"""Object storage for user files, generated media and premium content.

One async interface, :class:`Storage`, with two backends chosen by ``STORAGE_URL``:

* ``file:///abs/path`` or ``file://./relative`` — :class:`LocalStorage` (development, tests,
  one-machine installs); downloads go through our own signed ``/files/`` links
  (:mod:`core.storage.urls`) served with ``Range`` support (:mod:`core.storage.ranges`);
* ``s3://bucket`` or ``s3://bucket/prefix`` with ``S3_ENDPOINT_URL`` — :class:`S3Storage`;
  downloads are presigned GETs straight from the bucket.
"""

from __future__ import annotations

from core.settings import Settings
from core.storage.base import ObjectStat, Storage, StoredObject, validate_key
from core.storage.errors import (
    InvalidContentTypeError,
    InvalidKeyError,
    InvalidSignatureError,
    LinkExpiredError,
    ObjectConflictError,
    ObjectNotFoundError,
    ObjectTooLargeError,
    StorageError,
)
from core.storage.local import LocalStorage
from core.storage.s3 import S3Storage

__all__ = [
    "InvalidContentTypeError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "LinkExpiredError",
    "LocalStorage",
    "ObjectConflictError",
    "ObjectNotFoundError",
    "ObjectStat",
    "ObjectTooLargeError",
    "S3Storage",
    "Storage",
    "StorageError",
    "StoredObject",
    "create_storage",
    "validate_key",
]


def create_storage(settings: Settings) -> Storage:
    """The backend ``settings.storage_url`` names; call ``ensure_ready()`` once at start-up.

    Raises ``ValueError`` for a URL it does not understand, so a typo fails at start-up rather
    than at the first upload.
    """
    url = settings.storage_url.strip()
    if url.startswith("file://"):
        path = url.removeprefix("file://")
        if not path:
            raise ValueError("STORAGE_URL file:// needs a path, e.g. file:///var/lib/atelier")
        return LocalStorage(
            path, public_base_url=settings.public_base_url, secret_key=settings.secret_key
        )
    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError("STORAGE_URL s3:// needs a bucket, e.g. s3://atelier-media")
        return S3Storage(bucket, prefix=prefix, endpoint_url=settings.s3_endpoint_url)
    raise ValueError(f"STORAGE_URL must start with file:// or s3://, got {url!r}")
