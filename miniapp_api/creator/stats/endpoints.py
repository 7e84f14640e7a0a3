"""``GET /api/v1/creator/stats?days=7|30|90``: read from the daily rollups only (one index
range scan), so it stays fast as the tenant grows; the worker rebuilds today every ten
minutes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core.errors import ValidationError
from miniapp_api.clock import NowDep
from miniapp_api.creator.deps import CreatorDep
from miniapp_api.creator.stats.schemas import KeyNumbersOut, StatsOut
from miniapp_api.deps import SessionDep
from tenants.stats import service
from tenants.stats.activity import utc_day

router = APIRouter()


@router.get("")
async def stats(
    creator: CreatorDep,
    session: SessionDep,
    now: NowDep,
    days: Annotated[int, Query(description="7, 30 or 90")] = 30,
) -> StatsOut:
    if days not in service.PERIODS:
        raise ValidationError("days is 7, 30 or 90", field="days")
    today = utc_day(now)
    report = await service.report(session, creator.tenant.id, days=days, today=today)
    return StatsOut(
        days=days,
        start=report.days[0],
        end=today,
        dates=report.days,
        series=report.series,
        totals=report.totals,
        key_numbers=KeyNumbersOut.of(report.key),
        previous=KeyNumbersOut.of(report.previous),
        revenue_by_source=report.revenue_by_source,
        updated_at=report.updated_at,
    )
