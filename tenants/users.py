"""Fans of a tenant (one row per tenant and Telegram user), shared by the bot, the Mini App
sign-in and the worker, without a database write on every update.

The ``user`` injected into handlers is a :class:`BotUser` snapshot. Snapshots live in Redis
(``bot:user:{tenant}:{telegram id}``, shared by every process, one hour) and the webhook reads
them in the same round trip as the update's de-duplication. The row is written only when the
user is new, changed their name, username or Telegram language, comes back after blocking the
bot, or was last marked seen more than :data:`LAST_SEEN_EVERY` seconds ago — so
``last_seen_at`` is precise to five minutes and a chatty fan costs no writes in between.

Snapshots are written after the transaction commits (never a snapshot of a row that rolled
back); code that changes a user's row (language, blocked) forgets the snapshot after commit,
so the next update reads the row again.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup
from aiogram.types import User as TelegramUser
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import User
from core.queue import unit_of_work

logger = logging.getLogger(__name__)

LAST_SEEN_EVERY = 300.0
SNAPSHOT_TTL = 3600


@dataclass(frozen=True, slots=True)
class BotUser:
    """A fan of one tenant (injected as ``user``); ``is_new`` only on the update that created
    the row."""

    id: int
    tenant_id: int
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    language: str | None
    referrer_id: int | None
    is_blocked: bool
    seen: float  # when last_seen_at was last written (epoch seconds)
    is_new: bool = False


def snapshot_key(tenant_id: int, telegram_id: int) -> str:
    return f"bot:user:{tenant_id}:{telegram_id}"


def encode(user: BotUser) -> str:
    return json.dumps(
        [
            user.id,
            user.first_name,
            user.last_name,
            user.username,
            user.language_code,
            user.language,
            user.referrer_id,
            user.is_blocked,
            user.seen,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(raw: bytes | str | None, tenant_id: int, telegram_id: int) -> BotUser | None:
    if not raw:
        return None
    try:
        (
            user_id,
            first_name,
            last_name,
            username,
            language_code,
            language,
            referrer_id,
            blocked,
            seen,
        ) = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return BotUser(
        id=user_id,
        tenant_id=tenant_id,
        telegram_id=telegram_id,
        first_name=first_name,
        last_name=last_name,
        username=username,
        language_code=language_code,
        language=language,
        referrer_id=referrer_id,
        is_blocked=bool(blocked),
        seen=float(seen),
    )


def is_current(user: BotUser, sender: TelegramUser, now: float) -> bool:
    """The snapshot can serve this update without touching the row."""
    return (
        not user.is_blocked
        and now - user.seen < LAST_SEEN_EVERY
        and user.first_name == _clip(sender.first_name, 128)
        and user.last_name == _clip(sender.last_name, 128)
        and user.username == _clip(sender.username, 64)
        and user.language_code == _clip(sender.language_code, 16)
    )


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else value


async def upsert_user(session: AsyncSession, tenant_id: int, sender: TelegramUser) -> BotUser:
    """Insert the fan or refresh their row in one statement; a returning fan is unblocked.

    ``created_at`` is set explicitly and never updated, so ``created_at == now`` on the
    returned row means this statement inserted it: race-free "is new" on both databases.
    """
    now = datetime.now(UTC)
    values = {
        "first_name": _clip(sender.first_name, 128) or "",
        "last_name": _clip(sender.last_name, 128),
        "username": _clip(sender.username, 64),
        "language_code": _clip(sender.language_code, 16),
        "is_blocked": False,
        "last_seen_at": now,
    }
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(User)
        .values(tenant_id=tenant_id, telegram_id=sender.id, created_at=now, **values)
        .on_conflict_do_update(index_elements=["tenant_id", "telegram_id"], set_=values)
        .returning(User.id, User.language, User.referrer_id, User.created_at)
    )
    row = (await session.execute(statement)).one()
    return BotUser(
        id=row.id,
        tenant_id=tenant_id,
        telegram_id=sender.id,
        first_name=values["first_name"],  # type: ignore[arg-type]
        last_name=values["last_name"],  # type: ignore[arg-type]
        username=values["username"],  # type: ignore[arg-type]
        language_code=values["language_code"],  # type: ignore[arg-type]
        language=row.language,
        referrer_id=row.referrer_id,
        is_blocked=False,
        seen=now.timestamp(),
        is_new=_same_instant(row.created_at, now),
    )


def _same_instant(stored: datetime, now: datetime) -> bool:
    if stored.tzinfo is None:
        stored = stored.replace(tzinfo=UTC)
    return abs((stored - now).total_seconds()) < 1e-3


async def resolve_user(
    session: AsyncSession,
    tenant_id: int,
    sender: TelegramUser,
    snapshot: bytes | str | None,
) -> tuple[BotUser, bool]:
    """The fan of this update and whether the row was written (then store the snapshot)."""
    cached = decode(snapshot, tenant_id, sender.id)
    if cached is not None and is_current(cached, sender, time.time()):
        return cached, False
    return await upsert_user(session, tenant_id, sender), True


async def store_snapshot(redis: Redis, user: BotUser) -> None:
    await redis.set(snapshot_key(user.tenant_id, user.telegram_id), encode(user), ex=SNAPSHOT_TTL)


async def forget_snapshot(redis: Redis, tenant_id: int, telegram_id: int) -> None:
    await redis.delete(snapshot_key(tenant_id, telegram_id))


async def set_language(session: AsyncSession, user: BotUser, language: str) -> BotUser:
    await session.execute(
        update(User)
        .where(User.tenant_id == user.tenant_id, User.id == user.id)
        .values(language=language)
    )
    return replace(user, language=language)


async def set_blocked(
    session: AsyncSession, tenant_id: int, telegram_id: int, *, blocked: bool
) -> None:
    await session.execute(
        update(User)
        .where(User.tenant_id == tenant_id, User.telegram_id == telegram_id)
        .values(is_blocked=blocked)
    )


async def mark_blocked(
    factory: async_sessionmaker[AsyncSession], redis: Redis, tenant_id: int, telegram_id: int
) -> None:
    """Telegram answered 403 for this fan: remember it in its own unit of work."""
    async with unit_of_work(factory, redis) as session:  # type: ignore[arg-type]
        await set_blocked(session, tenant_id, telegram_id, blocked=True)
    await forget_snapshot(redis, tenant_id, telegram_id)
    logger.info("user blocked the bot", extra={"tenant_id": tenant_id, "telegram_id": telegram_id})


async def send_to_user(
    bot: Bot,
    *,
    factory: async_sessionmaker[AsyncSession],
    redis: Redis,
    tenant_id: int,
    telegram_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Message a fan outside of their own update (notifications, broadcasts); a fan who
    blocked the bot is marked instead of failing the caller. True when delivered."""
    try:
        await bot.send_message(telegram_id, text, reply_markup=reply_markup)
    except TelegramForbiddenError:
        await mark_blocked(factory, redis, tenant_id, telegram_id)
        return False
    return True
