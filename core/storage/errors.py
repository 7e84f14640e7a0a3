"""Typed storage errors, each with the HTTP status the API should answer with.

They subclass the shared :mod:`core.errors` hierarchy so the one API error handler and the one
bot middleware render them without knowing about storage.
"""

from __future__ import annotations

from core.errors import AtelierError, NotFoundError, PermissionDeniedError, ValidationError


class StorageError(AtelierError):
    """The object store (the S3 endpoint or the local disk) failed; nothing the caller did."""

    status_code = 502
    code = "storage_error"


class InvalidKeyError(ValidationError):
    """A key that could escape the storage root or break a backend (``..``, ``/abs``, ``\\``)."""

    code = "invalid_key"


class InvalidContentTypeError(ValidationError):
    """A content type that is not a plain ``type/subtype`` (it ends up in response headers)."""

    code = "invalid_content_type"


class ObjectNotFoundError(NotFoundError):
    """No object under this key."""


class ObjectTooLargeError(AtelierError):
    """The upload went past ``max_bytes``; it was aborted and nothing was stored."""

    status_code = 413
    code = "too_large"


class ObjectConflictError(AtelierError):
    """The key clashes with another object's path (local disk: ``a`` is a file, ``a/b`` wanted)."""

    status_code = 409
    code = "conflict"


class InvalidSignatureError(PermissionDeniedError):
    """A download link whose signature does not match: forged, altered or for another key."""

    code = "bad_signature"


class LinkExpiredError(AtelierError):
    """A correctly signed download link whose time is up; 410 tells the app to ask for a new one."""

    status_code = 410
    code = "link_expired"
