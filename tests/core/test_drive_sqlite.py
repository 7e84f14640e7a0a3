"""The drive on SQLite (``atelier dev``): the migration's row triggers keep the usage counters,
pages and both search steps run, and the reconciliation writes through SQLite's upsert."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import migrate
from core.db import create_engine, create_session_factory, session_scope
from core.drive import repository
from core.drive import service as drive
from core.models import DriveUsage, File, Tenant, User

Factory = async_sessionmaker[AsyncSession]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def lite(tmp_path: Path) -> AsyncIterator[tuple[Factory, int, int]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'drive.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url=url)
    factory = create_session_factory(engine)
    async with session_scope(factory) as s:
        tenant = Tenant(name="dev")
        s.add(tenant)
        await s.flush()
        user = User(tenant_id=tenant.id, telegram_id=42)
        s.add(user)
        await s.flush()
        ids = tenant.id, user.id
    yield factory, *ids
    await engine.dispose()


def _file(tenant_id: int, user_id: int, n: int, name: str, mime: str, size: int) -> File:
    return File(
        tenant_id=tenant_id,
        user_id=user_id,
        name=name,
        storage_key=f"k/{n}",
        mime_type=mime,
        size=size,
        sha256="0" * 64,
        provenance={},
        created_at=BASE + timedelta(minutes=n // 2),  # pairs share a time
    )


async def _counters(factory: Factory, tenant_id: int) -> dict[int, tuple[int, int]]:
    async with factory() as s:
        rows = await s.execute(
            select(DriveUsage.user_key, DriveUsage.bytes, DriveUsage.files).where(
                DriveUsage.tenant_id == tenant_id
            )
        )
        return {key: (b, n) for key, b, n in rows}


async def test_triggers_keep_usage_and_reconciliation_repairs_it(
    lite: tuple[Factory, int, int],
) -> None:
    factory, tenant_id, user_id = lite
    async with session_scope(factory) as s:
        s.add_all(_file(tenant_id, user_id, n, f"f{n}", "text/plain", 10 * n) for n in range(1, 5))
    assert await _counters(factory, tenant_id) == {0: (100, 4), user_id: (100, 4)}
    async with session_scope(factory) as s:
        await s.execute(update(File).where(File.storage_key == "k/1").values(size=15))
        await s.execute(update(File).values(name="renamed"))  # no size change: no counter change
        await s.execute(delete(File).where(File.storage_key == "k/4"))
    assert await _counters(factory, tenant_id) == {0: (65, 3), user_id: (65, 3)}
    async with session_scope(factory) as s:
        await s.execute(update(DriveUsage).values(bytes=1, files=1))
        drift = await drive.reconcile_usage(s, tenant_id)
    assert [(d.user_id, d.counted_bytes, d.actual_bytes) for d in drift] == [
        (None, 1, 65),
        (user_id, 1, 65),
    ]
    assert await _counters(factory, tenant_id) == {0: (65, 3), user_id: (65, 3)}


@pytest.mark.parametrize("window", [3, repository.SEARCH_WINDOW])
async def test_pages_and_search(
    lite: tuple[Factory, int, int], monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    monkeypatch.setattr(repository, "SEARCH_WINDOW", window)
    factory, tenant_id, user_id = lite
    names = ["cat.png", "dog.txt", "cat.txt", "bird.png", "Cathy.png", "cat.png", "zebra.txt"]
    async with session_scope(factory) as s:
        s.add_all(
            _file(
                tenant_id,
                user_id,
                n,
                name,
                "image/png" if name.endswith("png") else "text/plain",
                5,
            )
            for n, name in enumerate(names)
        )
    seen: list[str] = []
    cursor = None
    async with factory() as s:
        while True:
            page = await drive.list_folder(
                s, tenant_id, user_id, None, sort="name", cursor=cursor, limit=2
            )
            seen += [f.name for f in page.files]
            if (cursor := page.next_cursor) is None:
                break
        assert seen == sorted(names)
        found: list[int] = []
        cursor = None
        while True:
            hits = await drive.search(
                s, tenant_id, user_id, query="CAT", kind="image", cursor=cursor, limit=1
            )
            found += [f.id for f in hits.files]
            if (cursor := hits.next_cursor) is None:
                break
        rows = {f.id: f for f in (await s.scalars(select(File))).all()}
    want = sorted(
        (f for f in rows.values() if "cat" in f.name.lower() and f.mime_type == "image/png"),
        key=lambda f: (f.created_at, f.id),
        reverse=True,
    )
    assert found == [f.id for f in want] and len(found) == 3
