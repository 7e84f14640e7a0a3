"""Typed errors of the drive; each carries its HTTP status and a stable code."""

from __future__ import annotations

from core.errors import AtelierError, ConflictError


class InvalidCursorError(AtelierError):
    status_code = 400
    code = "invalid_cursor"


class FolderConflictError(ConflictError):
    code = "folder_conflict"


class QuotaExceededError(AtelierError):
    status_code = 413
    code = "quota_exceeded"


class UnsupportedFileTypeError(AtelierError):
    status_code = 415
    code = "unsupported_media_type"


class ImageTooLargeError(AtelierError):
    """A decompression bomb: a small file that would decode into a huge bitmap."""

    status_code = 413
    code = "image_too_large"


class NotInTrashError(ConflictError):
    code = "not_in_trash"


class PremiumFileError(ConflictError):
    """The file is media of a locked (VIP, pay-per-view, task) post: no public link for it."""

    code = "premium_file"
