"""Storage fixtures: a moto S3 server for the session and one ``storage`` per backend.

Every behavioural test takes ``storage`` and so runs against local disk and against S3 (moto
speaking the real wire protocol over HTTP). Each S3 test gets its own key prefix in one shared
bucket, so tests stay independent without paying for a bucket per test.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from core.storage import LocalStorage, S3Storage, Storage
from core.storage.s3 import MIN_PART_SIZE, create_s3_client

BUCKET = "atelier-storage-tests"
PUBLIC_BASE_URL = "https://atelier.test"
SECRET_KEY = "storage-tests-secret-key-0123456789abcdef"
PART_SIZE = MIN_PART_SIZE  # the smallest S3 accepts keeps the multipart tests fast

# Keys every backend must refuse (traversal, absolute, control characters, reserved, too long).
BAD_KEYS = [
    "",
    "/etc/passwd",
    "../escape",
    "a/../../escape",
    "a/./b",
    "a//b",
    "trailing/",
    "back\\slash",
    "nul\x00byte",
    "new\nline",
    "del\x7f",
    ".atelier-meta/x",
    "k" * 1025,
    "s/" + "k" * 256,
]

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free port, with fake credentials in the environment meanwhile."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in _FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="session")
def s3_client(s3_endpoint: str) -> Any:
    """One boto3 client for the session, with the test bucket created through our code.

    Synchronous (``asyncio.run``) because it is requested lazily from the sync ``storage``
    fixture; only S3-parametrized tests start moto at all.
    """
    client = create_s3_client(s3_endpoint)
    asyncio.run(S3Storage(BUCKET, client=client).ensure_bucket())
    return client


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(
            tmp_path / "store", public_base_url=PUBLIC_BASE_URL, secret_key=SECRET_KEY
        )
    client = request.getfixturevalue("s3_client")
    return S3Storage(BUCKET, prefix=f"t-{uuid.uuid4().hex}", client=client, part_size=PART_SIZE)


async def leftovers(storage: Storage) -> list[str]:
    """Everything the backend holds: files on disk, objects and open multipart uploads on S3."""
    if isinstance(storage, LocalStorage):
        if not storage.root.exists():
            return []
        return sorted(
            str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if not p.is_dir()
        )
    assert isinstance(storage, S3Storage)
    objects = storage.client.list_objects_v2(Bucket=storage.bucket, Prefix=storage.prefix)
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket, Prefix=storage.prefix)
    return [o["Key"] for o in objects.get("Contents", [])] + [
        f"upload:{u['Key']}" for u in uploads.get("Uploads", [])
    ]


def local_dirs(storage: Storage) -> list[str]:
    """Directories under a local root other than the metadata tree (empty ones should go)."""
    if not isinstance(storage, LocalStorage) or not storage.root.exists():
        return []
    return sorted(
        str(p.relative_to(storage.root))
        for p in storage.root.rglob("*")
        if p.is_dir() and not str(p.relative_to(storage.root)).startswith(".atelier")
    )
