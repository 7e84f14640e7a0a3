"""``GET /api/v1/creator/stats``: series and key numbers for 7, 30 or 90 days, read from the
rollups (what the panel's charts draw), for the caller's tenant only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from core.models import Payment, User, UserActivityDay
from tenants.stats import service
from tests.miniapp_api.auth.helpers import add_bot, sign_in

Factory = async_sessionmaker[AsyncSession]
OWNER = 6_600_001


async def test_stats_series_and_key_numbers(
    client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    other = await add_bot(session_factory, owner_telegram_id=OWNER + 1)
    owner = await sign_in(client, bot, OWNER)  # the owner is a fan row too, created today
    today = datetime.now(UTC).date()

    def at(day: date) -> datetime:
        return datetime.combine(day, time(12), UTC)

    async with session_scope(session_factory) as session:
        fans = [
            User(
                tenant_id=bot.tenant_id,
                telegram_id=10 + i,
                created_at=at(today - timedelta(days=n)),
            )
            for i, n in enumerate((1, 2, 2, 40))
        ]
        session.add_all([*fans, User(tenant_id=other.tenant_id, telegram_id=1)])
        await session.flush()
        session.add_all(
            [
                UserActivityDay(
                    tenant_id=bot.tenant_id, user_id=fans[0].id, day=today, source="bot"
                ),
                Payment(
                    tenant_id=bot.tenant_id,
                    telegram_payment_charge_id="c1",
                    kind="credits",
                    telegram_user_id=10,
                    stars=250,
                    payload="p",
                    created_at=at(today - timedelta(days=1)),
                ),
                Payment(
                    tenant_id=other.tenant_id,
                    telegram_payment_charge_id="c2",
                    kind="credits",
                    telegram_user_id=1,
                    stars=999,
                    payload="p",
                ),
            ]
        )
    await service_backfill(session_factory, today)

    response = await client.get("/api/v1/creator/stats", params={"days": 7}, headers=owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["days"] == 7 and len(body["dates"]) == 7
    assert body["dates"][-1] == today.isoformat() == body["end"]
    assert body["series"]["users.new"] == [0, 0, 0, 0, 2, 1, 1]  # the owner signed in today
    assert body["series"]["users.total"][-1] == 5
    assert body["series"]["revenue.credits"] == [0, 0, 0, 0, 0, 250, 0]
    key = body["key_numbers"]
    assert (key["new_users"], key["total_users"], key["revenue"]) == (4, 5, 250)
    # Signing in counts as a Mini App open: two active fans today (the owner and fans[0]).
    assert key["active_today"] == 2
    assert body["previous"]["total_users"] == 1  # the fan from 40 days ago
    assert body["revenue_by_source"] == {"credits": 250}
    assert body["updated_at"] is not None

    ninety = (await client.get("/api/v1/creator/stats?days=90", headers=owner.headers)).json()
    assert len(ninety["dates"]) == 90 and ninety["key_numbers"]["new_users"] == 5
    for days in ("8", "abc", "0"):
        refused = await client.get(f"/api/v1/creator/stats?days={days}", headers=owner.headers)
        assert refused.status_code == 422


async def service_backfill(factory: Factory, today: date) -> None:
    """What the cron and ``atelier stats backfill`` do, for the last 90 days."""
    await service.backfill(factory, days=180, today=today)
