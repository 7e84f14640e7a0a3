"""Our own signed download links: good, tampered, expired, for another key or another type."""

from __future__ import annotations

import time

import httpx
import pytest

from core.storage import InvalidKeyError, InvalidSignatureError, LinkExpiredError
from core.storage.urls import (
    content_disposition,
    sign_download,
    signed_download_url,
    verify_download,
)

SECRET = "url-tests-secret-key-0123456789abcdef0123"
NOW = 1_800_000_000


def test_good_signature_verifies() -> None:
    sig = sign_download("a/b.mp4", NOW + 60, secret_key=SECRET)
    verify_download("a/b.mp4", NOW + 60, sig, now=NOW, secret_key=SECRET)
    verify_download("a/b.mp4", str(NOW + 60), sig, now=NOW + 59, secret_key=SECRET)


def test_expired_link_answers_410() -> None:
    sig = sign_download("a/b.mp4", NOW, secret_key=SECRET)
    with pytest.raises(LinkExpiredError) as caught:
        verify_download("a/b.mp4", NOW, sig, now=NOW, secret_key=SECRET)
    assert caught.value.status_code == 410


@pytest.mark.parametrize(
    ("key", "exp", "sig_change", "extra"),
    [
        ("a/c.mp4", NOW + 60, None, {}),  # another key
        ("a/b.mp4", NOW + 3600, None, {}),  # expiry pushed out
        ("a/b.mp4", NOW + 60, "flip", {}),  # tampered signature
        ("a/b.mp4", NOW + 60, "truncate", {}),
        ("a/b.mp4", NOW + 60, "garbage", {}),
        ("a/b.mp4", NOW + 60, None, {"content_type": "text/html"}),  # type smuggled in
        ("a/b.mp4", NOW + 60, None, {"filename": "evil.html"}),
        ("a/b.mp4", "soon", None, {}),
    ],
)
def test_altered_links_answer_403(
    key: str, exp: int | str, sig_change: str | None, extra: dict[str, str]
) -> None:
    sig = sign_download("a/b.mp4", NOW + 60, secret_key=SECRET)
    if sig_change == "flip":
        sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    elif sig_change == "truncate":
        sig = sig[:-4]
    elif sig_change == "garbage":
        sig = "%%%not-base64"
    with pytest.raises(InvalidSignatureError) as caught:
        verify_download(key, exp, sig, now=NOW, secret_key=SECRET, **extra)
    assert caught.value.status_code == 403


def test_tampered_and_expired_is_403_not_410() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_download("a/b.mp4", NOW, "A" * 43, now=NOW + 10, secret_key=SECRET)


def test_other_secret_key_is_refused() -> None:
    sig = sign_download("a/b.mp4", NOW + 60, secret_key=SECRET)
    with pytest.raises(InvalidSignatureError):
        verify_download("a/b.mp4", NOW + 60, sig, now=NOW, secret_key=SECRET + "x")


def test_filename_and_type_are_signed_together() -> None:
    sig = sign_download(
        "a/b.mp4", NOW + 60, filename="clip.mp4", content_type="video/mp4", secret_key=SECRET
    )
    verify_download(
        "a/b.mp4",
        NOW + 60,
        sig,
        filename="clip.mp4",
        content_type="video/mp4",
        now=NOW,
        secret_key=SECRET,
    )
    with pytest.raises(InvalidSignatureError):  # dropping the type is also a change
        verify_download("a/b.mp4", NOW + 60, sig, filename="clip.mp4", now=NOW, secret_key=SECRET)


def test_bad_key_is_refused_when_verifying_and_signing() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_download("../etc/passwd", NOW + 60, "x", now=NOW, secret_key=SECRET)
    with pytest.raises(InvalidKeyError):
        sign_download("../etc/passwd", NOW + 60, secret_key=SECRET)


def test_signed_url_round_trips_through_its_query() -> None:
    url = signed_download_url(
        "users/1/my file #1.mp3",
        expires_in=120,
        public_base_url="https://app.example/",
        filename="My song.mp3",
        content_type="audio/mpeg",
        secret_key=SECRET,
    )
    parsed = httpx.URL(url)
    assert parsed.host == "app.example"
    assert parsed.raw_path.startswith(b"/files/users/1/my%20file%20%231.mp3?")
    assert parsed.path == "/files/users/1/my file #1.mp3"
    exp = int(parsed.params["exp"])
    assert 115 <= exp - time.time() <= 121
    verify_download(
        parsed.path.removeprefix("/files/"),
        parsed.params["exp"],
        parsed.params["sig"],
        filename=parsed.params["filename"],
        content_type=parsed.params["content_type"],
        secret_key=SECRET,
    )


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
        (
            'Фото "1".jpg',
            "attachment; filename=\"1.jpg\"; filename*=UTF-8''"
            "%D0%A4%D0%BE%D1%82%D0%BE%20%221%22.jpg",
        ),
        (
            "a\r\nSet-Cookie: x.txt",
            "attachment; filename=\"aSet-Cookie: x.txt\"; filename*=UTF-8''aSet-Cookie%3A%20x.txt",
        ),
        ("../../x", "attachment; filename=\".._.._x\"; filename*=UTF-8''.._.._x"),
        ("\x00", "attachment; filename=\"download\"; filename*=UTF-8''download"),
    ],
)
def test_content_disposition_is_header_safe(filename: str, expected: str) -> None:
    assert content_disposition(filename) == expected
    assert "\r" not in expected and "\n" not in expected
