"""``/stats [7|30|90]`` (owner and co-admins only; fans get the unknown-command reply): the
chart of new and active fans and revenue, as a photo, with the key numbers as its caption —
both in the admin's language, from the daily rollups."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import TenantAdminOnly
from bot.i18n import Texts
from bot.routing import TenantInfo
from core.db import utcnow
from tenants.stats import digest, service
from tenants.stats.activity import utc_day

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

DEFAULT_DAYS = 30


def period_of(command: CommandObject) -> int:
    try:
        days = int((command.args or "").strip() or DEFAULT_DAYS)
    except ValueError:
        return DEFAULT_DAYS
    return days if days in service.PERIODS else DEFAULT_DAYS


async def stats_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    tenant: TenantInfo,
    texts: Texts,
    runtime: BotRuntime,
) -> None:
    days = period_of(command)
    report = await service.report(session, tenant.id, days=days, today=utc_day(utcnow()))
    font = runtime.settings.chart_font
    labels = texts.with_locale(digest.chart_language(texts.locale, font))
    # Drawing takes tens of milliseconds of CPU: keep it off the event loop.
    png = await asyncio.to_thread(digest.chart_png, labels, report, days=days, font=font)
    await message.answer_photo(
        BufferedInputFile(png, filename="stats.png"),
        caption=digest.summary(texts, report, days=days),
    )


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="stats")
    router.message.register(stats_command, Command("stats"), TenantAdminOnly())
    return router
