"""Our own signed download links: good, tampered, expired, for another key or another type."""

from __future__ import annotations

import hmac
import time

import httpx
import pytest

from core.storage import InvalidKeyError, InvalidSignatureError, LinkExpiredError
from core.storage.urls import (
    EXPIRY_STEP,
    _signing_key,
    content_disposition,
    expiry,
    sign_download,
    signed_download_url,
    signer,
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


def test_signer_is_rfc_2104_hmac_sha256() -> None:
    """The precomputed pads give exactly the standard HMAC of the signed message."""
    mac = signer(SECRET).mac("a/b.mp4", NOW, "clip.mp4", "video/mp4")
    message = b"v2|7:a/b.mp4|1800000000|8:clip.mp4|9:video/mp4"
    assert mac == hmac.digest(_signing_key(SECRET), message, "sha256")


def test_fields_cannot_bleed_into_each_other() -> None:
    one = sign_download("a/b", NOW, filename="x|3:a/b", secret_key=SECRET)
    other = sign_download("a/b", NOW, filename="x", content_type="a/b", secret_key=SECRET)
    empty = sign_download("a/b", NOW, filename="", secret_key=SECRET)
    none = sign_download("a/b", NOW, secret_key=SECRET)
    assert len({one, other, empty, none}) == 4


@pytest.mark.parametrize(
    ("now", "expires_in", "expected"),
    [
        (NOW, 3600, NOW + 3600),  # already on a step
        (NOW + 1, 3600, NOW + 3600 + EXPIRY_STEP),  # rounded up, never down
        (NOW + 299, 3600, NOW + 3600 + EXPIRY_STEP),
        (NOW + 1, 120, NOW + 121),  # short links keep their exact lifetime
    ],
)
def test_expiry_rounds_up_to_a_step(now: int, expires_in: int, expected: int) -> None:
    assert expiry(expires_in, now) == expected


def test_links_made_within_a_step_are_identical() -> None:
    made = {
        signed_download_url(
            "drive/1/2/abc",
            expires_in=3600,
            public_base_url="https://app.example",
            content_type="image/webp",
            secret_key=SECRET,
            now=NOW + second,
        )
        for second in range(1, EXPIRY_STEP + 1)
    }
    assert len(made) == 1
