"""Our presigned S3 links are botocore's links, made without botocore per link."""

from __future__ import annotations

import calendar
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config

from core.storage import S3Storage, StorageError
from core.storage.presign import S3LinkSigner, stable_window
from core.storage.urls import EXPIRY_STEP
from tests.core.storage.conftest import BUCKET

KEY = "t/drive/1/2/fan art ✨ (1)~.png"
RESPONSE = {
    "ResponseContentType": "image/png",
    "ResponseContentDisposition": "attachment; filename=\"a b.png\"; filename*=UTF-8''a%20b.png",
}
QUERY = {"response-content-type": RESPONSE["ResponseContentType"]} | {
    "response-content-disposition": RESPONSE["ResponseContentDisposition"]
}


def _same_link_as_botocore(client: Any, bucket: str, **params: str) -> None:
    boto = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": KEY, **params}, ExpiresIn=900
    )
    signed = parse_qs(urlsplit(boto).query)["X-Amz-Date"][0]
    signed_at = calendar.timegm(time.strptime(signed, "%Y%m%dT%H%M%SZ"))
    query = {k: v for k, v in QUERY.items() if any(p.lower() in k.replace("-", "") for p in params)}
    ours = S3LinkSigner(client, bucket).url(KEY, expires_in=900, params=query, signed_at=signed_at)
    assert ours is not None
    assert urlsplit(ours)[:3] == urlsplit(boto)[:3]  # scheme, host, path
    assert parse_qs(urlsplit(ours).query) == parse_qs(urlsplit(boto).query)  # signature too


def test_path_style_links_match_botocore(s3_client: Any) -> None:
    _same_link_as_botocore(s3_client, BUCKET, **RESPONSE)
    _same_link_as_botocore(s3_client, BUCKET)


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_virtual_host_links_with_a_session_token_match_botocore(region: str) -> None:
    client = boto3.client(
        "s3",
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        aws_session_token="session/token+with=odd chars",
        config=Config(signature_version="s3v4"),
    )
    _same_link_as_botocore(client, "fan-media", **RESPONSE)


async def test_a_link_made_by_us_downloads_from_s3(s3_client: Any) -> None:
    """Over the wire to a real S3 server (moto does not check signatures: the comparisons
    with botocore above are what prove them)."""
    storage = S3Storage(BUCKET, prefix="presign", client=s3_client)
    await storage.put_bytes("a b/ü~.txt", b"hello", content_type="text/plain")
    url = await storage.download_url(
        "a b/ü~.txt", expires_in=3600, filename="hi.txt", content_type="text/plain"
    )
    assert url == await storage.download_url(
        "a b/ü~.txt", expires_in=3600, filename="hi.txt", content_type="text/plain"
    )
    async with httpx.AsyncClient() as http:
        answer = await http.get(url)
        assert (answer.status_code, answer.content) == (200, b"hello")
        assert answer.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("now", "expires_in", "expected"),
    [
        (1_800_000_000, 3600, (1_800_000_000, 3600 + EXPIRY_STEP)),
        (1_800_000_299, 3600, (1_800_000_000, 3600 + EXPIRY_STEP)),  # still ≥ 3600 s left
        (1_800_000_001, 60, (1_800_000_001, 60)),  # short links: exact
        (1_800_000_001, 7 * 24 * 3600, (1_800_000_001, 7 * 24 * 3600)),  # S3's longest
    ],
)
def test_signing_windows(now: int, expires_in: int, expected: tuple[int, int]) -> None:
    assert stable_window(expires_in, now) == expected


async def test_without_credentials_a_link_is_a_storage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.session.Session().client(
        "s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9"
    )
    with pytest.raises(StorageError) as caught:
        await S3Storage("fan-media", client=client).download_url("a.png", expires_in=60)
    assert "credentials" in str(caught.value.details)
