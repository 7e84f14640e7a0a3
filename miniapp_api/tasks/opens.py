"""Recording a Mini App open (sign-in and the explicit ping): the fan's activity for the day
and the day of their open-the-app streak, behind the same Redis gate as the bot's."""

from __future__ import annotations

from datetime import datetime

from fastapi import BackgroundTasks
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import ActivitySource
from tenants.stats import activity


async def record_app_open(
    session: AsyncSession,
    redis: Redis,
    background: BackgroundTasks,
    *,
    tenant_id: int,
    user_id: int,
    now: datetime,
) -> None:
    """Insert today's ``app`` day (once); the gate is confirmed after the response, which the
    session dependency sends only once the transaction committed."""
    day = activity.utc_day(now)
    source = ActivitySource.APP
    if await activity.note_visit(
        redis, session, tenant_id=tenant_id, user_id=user_id, source=source, day=day
    ):
        background.add_task(activity.confirm_visit, redis, tenant_id, user_id, source, day)
