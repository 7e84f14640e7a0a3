"""A tenant with many fans in the Telegram emulator and in the database, for broadcast tests
and the bench. The emulator runs in this process (its state is read directly: every message
a bot sent, per chat); the worker reaches it over HTTP like Telegram."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import crypto
from core.models import Broadcast, BroadcastDelivery, Tenant, TenantBot, User
from devtools.serving import serve_app
from devtools.telegram import EmulatorClient, EmulatorSettings, Limits, create_app
from devtools.telegram.emulator import Emulator

Factory = async_sessionmaker[AsyncSession]
_names = count(1)


@dataclass
class Fans:
    """A tenant, its emulated bot and fans (``telegram_ids[i]`` is ``user_ids[i]``)."""

    tenant_id: int
    bot_id: int
    token: str
    owner_telegram_id: int
    user_ids: list[int] = field(default_factory=list)
    telegram_ids: list[int] = field(default_factory=list)


@dataclass
class Stage:
    emulator: Emulator
    client: EmulatorClient
    base_url: str

    async def tenant(
        self,
        factory: Factory,
        fans: int,
        *,
        plan: str = "premium",
        config: dict[str, Any] | None = None,
        languages: list[str | None] | None = None,
        last_seen: list[datetime] | None = None,
    ) -> Fans:
        """A tenant whose ``fans`` fans all started its bot (so it may message them)."""
        state = self.emulator.state
        n = next(_names)
        bot = state.create_bot(f"broadcast{n}_bot", f"Broadcast {n}")
        owner = state.create_user("Owner", language_code="en")
        bot.started_by.add(owner.id)
        users = [state.create_user(f"Fan{i}", language_code="en") for i in range(fans)]
        for user in users:
            bot.started_by.add(user.id)
        async with factory() as session:
            tenant = Tenant(
                name=f"Studio {n}", plan=plan, config=config or {}, owner_telegram_id=owner.id
            )
            session.add(tenant)
            await session.flush()
            session.add(
                TenantBot(
                    tenant_id=tenant.id,
                    telegram_bot_id=bot.id,
                    username=bot.username,
                    token_encrypted=crypto.encrypt(bot.token),
                )
            )
            now = datetime.now(UTC)
            rows = [
                {
                    "tenant_id": tenant.id,
                    "telegram_id": user.id,
                    "first_name": user.first_name,
                    "language_code": "en",
                    "language": (languages[i] if languages else None),
                    "is_blocked": False,
                    "last_seen_at": last_seen[i] if last_seen else now,
                    "created_at": now,
                }
                for i, user in enumerate(users)
            ]
            if rows:
                await session.execute(insert(User), rows)
            await session.commit()
            ids = (
                await session.execute(
                    select(User.id, User.telegram_id)
                    .where(User.tenant_id == tenant.id)
                    .order_by(User.id)
                )
            ).all()
        return Fans(
            tenant_id=tenant.id,
            bot_id=bot.id,
            token=bot.token,
            owner_telegram_id=owner.id,
            user_ids=[row.id for row in ids],
            telegram_ids=[row.telegram_id for row in ids],
        )

    def received(self, fans: Fans) -> dict[int, int]:
        """How many messages the bot sent to each fan (by Telegram id), from the emulator."""
        counts = {}
        for telegram_id in fans.telegram_ids:
            conversation = self.emulator.state.conversations.get((fans.bot_id, telegram_id))
            messages = conversation.messages.values() if conversation else []
            counts[telegram_id] = sum(1 for m in messages if m.from_bot and not m.deleted)
        return counts

    def block(self, fans: Fans, telegram_id: int) -> None:
        self.emulator.state.bots[fans.bot_id].blocked_by.add(telegram_id)


@contextlib.asynccontextmanager
async def stage(limits: Limits | None = None) -> AsyncIterator[Stage]:
    app = create_app(EmulatorSettings(limits=limits or Limits()))
    emulator: Emulator = app.state.emulator
    async with serve_app(app) as base_url:
        client = EmulatorClient(base_url)
        try:
            yield Stage(emulator, client, base_url)
        finally:
            await client.aclose()
            await emulator.close()


async def reload(factory: Factory, tenant_id: int, broadcast_id: int) -> Broadcast:
    async with factory() as session:
        row = await session.scalar(
            select(Broadcast).where(Broadcast.tenant_id == tenant_id, Broadcast.id == broadcast_id)
        )
        assert row is not None
        return row


async def deliveries(factory: Factory, broadcast_id: int) -> dict[int, str]:
    """``telegram_id → status`` of every recipient row."""
    async with factory() as session:
        rows = await session.execute(
            select(BroadcastDelivery.telegram_id, BroadcastDelivery.status).where(
                BroadcastDelivery.broadcast_id == broadcast_id
            )
        )
        return {row.telegram_id: str(row.status) for row in rows}
