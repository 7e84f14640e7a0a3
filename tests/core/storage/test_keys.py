"""Key and content-type validation, shared by every backend."""

from __future__ import annotations

import pytest

from core.storage import InvalidKeyError, validate_key
from core.storage.base import validate_content_type
from core.storage.errors import InvalidContentTypeError
from tests.core.storage.conftest import BAD_KEYS

GOOD_KEYS = [
    "a",
    "tenants/1/users/2/files/3f2a.mp4",
    "with space/and-ünicode/фото.jpg",
    "dots.in.name/..hidden-ish/file..txt",
    ".gitignore",
    "k" * 255,
    "/".join(["k" * 200] * 5),
]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_good_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", [*BAD_KEYS, "lone\ud800surrogate", "tab\there", "\u2028sep"])
def test_bad_keys(key: str) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        validate_key(key)
    assert (caught.value.status_code, caught.value.code) == (422, "invalid_key")


@pytest.mark.parametrize(
    "value", ["image/png", "text/html; charset=utf-8", "application/vnd.api+json", 'a/b; x="y z"']
)
def test_good_content_types(value: str) -> None:
    assert validate_content_type(value) == value


@pytest.mark.parametrize("value", ["", "png", "text/html\r\nX: y", "a/b c", "a/b; x", "/b"])
def test_bad_content_types(value: str) -> None:
    with pytest.raises(InvalidContentTypeError):
        validate_content_type(value)
