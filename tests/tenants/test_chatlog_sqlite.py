"""The chat history on SQLite (``atelier dev``): a batch stored once, keyset pages newest
first, retention — the same SQL as on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from core import models as _models  # noqa: F401 - registers every table on Base.metadata
from core.db import create_session_factory, session_scope, utcnow
from core.models import Tenant, TenantBot, User
from tenants.chatlog import record, service


def _entry(n: int, at_ms: int) -> service.Entry | None:
    raw = {
        "message": {
            "message_id": n,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5},
            "text": f"note {n}",
        }
    }
    fields = record.incoming(9, "message", raw)
    assert fields is not None
    return service.parse(
        f"{at_ms}-0",
        {k.encode(): v.encode() for k, v in zip(fields[::2], fields[1::2], strict=True)},
    )


async def test_store_page_and_purge(sqlite_engine: AsyncEngine) -> None:
    factory = create_session_factory(sqlite_engine)
    now_ms = int(utcnow().timestamp() * 1000)
    async with session_scope(factory) as session:
        tenant = Tenant(name="Dev Studio")
        session.add(tenant)
        await session.flush()
        session.add(
            TenantBot(tenant_id=tenant.id, telegram_bot_id=9, username="b", token_encrypted="x")
        )
        fan = User(tenant_id=tenant.id, telegram_id=5, first_name="Alice")
        session.add(fan)
        await session.flush()
        old = now_ms - 100 * 86_400_000
        batch = [_entry(1, old), *(_entry(n, now_ms + n) for n in range(2, 6))]
        assert await service.store_batch(session, batch) == 5
        assert await service.store_batch(session, batch[:2]) == 0  # re-delivered: nothing new
        tenant_id, fan_id = tenant.id, fan.id

    async with session_scope(factory) as session:
        texts, cursor = [], None
        while True:
            page = await service.messages(session, tenant_id, fan_id, before=cursor, limit=2)
            texts += [m.text for m in page.messages]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert texts == ["note 5", "note 4", "note 3", "note 2", "note 1"]
        assert await service.purge(session, utcnow() + timedelta(minutes=1), 90) == 1
