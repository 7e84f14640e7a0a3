"""``create_storage`` picks the backend from ``STORAGE_URL``."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from core.storage import LocalStorage, S3Storage, create_storage

SECRET = "create-storage-tests-secret-0123456789abcd"


def make(storage_url: str, **extra: str) -> Settings:
    return Settings(storage_url=storage_url, secret_key=SECRET, **extra)  # type: ignore[arg-type]


def test_absolute_file_url(tmp_path: Path) -> None:
    storage = create_storage(make(f"file://{tmp_path}/media"))
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "media"


def test_relative_file_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    storage = create_storage(make("file://./var/storage", public_base_url="https://x.test"))
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "var" / "storage"
    assert storage.public_base_url == "https://x.test"


async def test_local_ensure_ready_creates_the_root(tmp_path: Path) -> None:
    storage = create_storage(make(f"file://{tmp_path}/a/b"))
    await storage.ensure_ready()
    assert (tmp_path / "a" / "b").is_dir()


def test_s3_url_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    storage = create_storage(
        make("s3://atelier-media/prod/", s3_endpoint_url="http://127.0.0.1:9000")
    )
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("atelier-media", "prod/")
    assert storage.client.meta.endpoint_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize("url", ["ftp://x", "s3://", "file://", "/plain/path"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match="STORAGE_URL"):
        create_storage(make(url))
