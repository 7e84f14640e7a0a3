"""The creator panel's read side: recent activity, fans and a fan's history, plan usage.

A fan's "history" here is what the platform records about them — payments, generations,
credit movements, tasks and referrals — from rows that exist anyway; it answers "did they
pay?" and "what did that generation cost?". The conversation itself (what the fan wrote and
what the bot sent) is :mod:`tenants.chatlog`, recorded into a Redis stream on the bot's way in
and out and drained into ``chat_messages`` by the worker.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger
from core.drive import repository as drive_repo
from core.errors import NotFoundError
from core.models import CompletionStatus, Tenant, User
from tenants import billing
from tenants.panel import repository as repo
from tenants.plans import PlanLimits, effective_limits, get_plan

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, for the history and the dashboard's recent activity."""

    at: datetime
    kind: str  # joined, payment, generation, credits, task, referral
    data: dict[str, Any] = field(default_factory=dict)
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    events: list[Event]
    next_cursor: datetime | None


def _newest(streams: Sequence[Sequence[Event]], limit: int) -> list[Event]:
    merged = heapq.merge(*streams, key=lambda e: e.at, reverse=True)
    return [event for _, event in zip(range(limit), merged, strict=False)]


async def history(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    before: datetime | None,
    limit: int,
) -> Page:
    """The fan's events, newest first, a page before ``before`` (exclusive)."""
    fan = await require_fan(session, tenant_id, user_id)
    n = limit + 1
    streams: list[list[Event]] = [
        _payments(await repo.payments_of(session, tenant_id, user_id, before, n)),
        _jobs(await repo.jobs_of(session, tenant_id, user_id, before, n)),
        [
            Event(
                e.created_at,
                "credits",
                {"amount": e.amount, "balance_after": e.balance_after, "reason": e.reason},
                user_id,
            )
            for e in await repo.movements_of(session, tenant_id, user_id, before, n)
        ],
        _completions(await repo.completions_of(session, tenant_id, user_id, before, n)),
        [
            Event(
                r.created_at,
                "referral",
                {"friend_id": friend.id, "friend_name": friend.first_name, "reward": r.reward},
                user_id,
            )
            for r, friend in await repo.referrals_of(session, tenant_id, user_id, before, n)
        ],
    ]
    if before is None or fan.created_at < before:
        streams.append([Event(fan.created_at, "joined", {}, user_id)])
    events = _newest([sorted(s, key=lambda e: e.at, reverse=True) for s in streams], n)
    if len(events) > limit:
        return Page(events[:limit], events[limit - 1].at)
    return Page(events, None)


async def recent_activity(session: AsyncSession, tenant_id: int, *, limit: int = 20) -> list[Event]:
    """What happened lately across the tenant: new fans, payments, generations, tasks."""
    fans = await repo.newest_users(session, tenant_id, limit)
    streams = [
        [Event(u.created_at, "joined", {"name": u.first_name}, u.id) for u in fans],
        _payments(await repo.payments_of(session, tenant_id, None, None, limit)),
        _jobs(await repo.jobs_of(session, tenant_id, None, None, limit)),
        _completions(await repo.completions_of(session, tenant_id, None, None, limit)),
    ]
    return _newest([sorted(s, key=lambda e: e.at, reverse=True) for s in streams], limit)


def _payments(rows: Sequence[Any]) -> list[Event]:
    return [
        Event(
            p.created_at,
            "payment",
            {
                "kind": str(p.kind),
                "stars": p.stars,
                "credits": p.credits,
                "refunded": p.refunded_at is not None,
            },
            p.user_id,
        )
        for p in rows
    ]


def _jobs(rows: Sequence[Any]) -> list[Event]:
    return [
        Event(
            j.created_at,
            "generation",
            {"job_id": j.id, "tool": j.tool_slug, "status": str(j.status), "price": j.price},
            j.user_id,
        )
        for j in rows
    ]


def _completions(rows: Sequence[Any]) -> list[Event]:
    return [
        Event(
            c.updated_at,
            "task",
            {
                "task_id": c.task_id,
                "title": title,
                "status": str(c.status),
                "xp": c.xp if c.status == CompletionStatus.COMPLETED else 0,
                "credits": c.credits if c.status == CompletionStatus.COMPLETED else 0,
            },
            c.user_id,
        )
        for c, title in rows
    ]


# -- fans ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FanRow:
    user: User
    balance: int


async def search_fans(
    session: AsyncSession,
    tenant_id: int,
    *,
    query: str | None,
    before_id: int | None,
    limit: int,
) -> tuple[list[FanRow], int | None]:
    rows = await repo.search_users(
        session, tenant_id, query=query, before_id=before_id, limit=limit + 1
    )
    fans = [FanRow(user, balance or 0) for user, balance in rows[:limit]]
    return fans, (fans[-1].user.id if len(rows) > limit else None)


async def require_fan(session: AsyncSession, tenant_id: int, user_id: int) -> User:
    fan = await repo.get_user(session, tenant_id, user_id)
    if fan is None:
        raise NotFoundError("no such fan in this bot", user_id=user_id)
    return fan


async def fan_totals(session: AsyncSession, tenant_id: int, user_id: int) -> dict[str, int]:
    totals = await repo.user_totals(session, tenant_id, user_id)
    totals["referrals"] = await repo.count_referrals(session, tenant_id, user_id)
    return totals


# -- plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanUsage:
    code: str
    name: str
    custom: bool
    limits: PlanLimits
    storage_bytes: int
    platform_balance: int
    period_end: datetime | None
    expired_at: datetime | None


async def plan_usage(session: AsyncSession, tenant: Tenant) -> PlanUsage:
    """The plan's limits and what the tenant uses of those we measure: storage (drive bytes)
    and the platform credit balance against the monthly allowance. Messages a day belong to
    broadcasts and groups to the groups area; they are reported as not measured (None)."""
    plan = get_plan(tenant.plan)
    subscription = await billing.subscription_of(session, tenant.id)
    # Read without creating the account (a GET writes nothing); owner key 0 is the tenant's.
    balance = await ledger.user_balance(session, tenant.id, 0, ledger.AccountKind.TENANT)
    return PlanUsage(
        code=plan.code,
        name=plan.name,
        custom=plan.custom,
        limits=effective_limits(tenant.plan, tenant.config),
        storage_bytes=await drive_repo.tenant_bytes(session, tenant.id),
        platform_balance=balance.available,
        period_end=subscription.period_end if subscription else None,
        expired_at=subscription.expired_at if subscription else None,
    )
