"""Plans and their limits, as data. ``None`` means unlimited; Enterprise limits are custom
per tenant (``tenant.config["limits"]``) on top of the Enterprise defaults."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from redis.asyncio import Redis

logger = logging.getLogger(__name__)

GIB = 1024**3


@dataclass(frozen=True, slots=True)
class PlanLimits:
    #: Groups, supergroups and channels the bot may be in at once (``tenants.groups``).
    max_groups: int | None
    #: Replies of the AI assistant to fans' free text per UTC day, for the whole tenant (its
    #: LLM calls cost the platform money). Counted in Redis (:func:`assistant_quota_key`).
    messages_per_day: int | None
    storage_quota_bytes: int | None
    monthly_credits: int
    api_access: bool
    #: Broadcast messages a tenant may send per UTC day (every recipient of every broadcast
    #: counts once; a 429 that was retried does not). ``None``: unlimited.
    daily_broadcast_messages: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    code: str
    name: str
    limits: PlanLimits
    custom: bool = False  # limits negotiated per tenant


PLANS: dict[str, Plan] = {
    plan.code: plan
    for plan in (
        Plan(
            "basic",
            "Basic",
            PlanLimits(5, 100, 5 * GIB, 1_000, api_access=False, daily_broadcast_messages=2_000),
        ),
        Plan(
            "advanced",
            "Advanced",
            PlanLimits(15, 500, 25 * GIB, 5_000, api_access=False, daily_broadcast_messages=10_000),
        ),
        Plan(
            "premium",
            "Premium",
            PlanLimits(
                None, 2_000, 100 * GIB, 20_000, api_access=True, daily_broadcast_messages=50_000
            ),
        ),
        Plan(
            "enterprise",
            "Enterprise",
            PlanLimits(None, None, None, 100_000, api_access=True),
            custom=True,
        ),
    )
}
DEFAULT_PLAN = "basic"

_LIMIT_FIELDS = set(PlanLimits.__dataclass_fields__)


class UnknownPlanError(ValueError):
    pass


def get_plan(code: str) -> Plan:
    try:
        return PLANS[code]
    except KeyError:
        raise UnknownPlanError(
            f"unknown plan {code!r}; choose one of: {', '.join(PLANS)}"
        ) from None


def effective_limits(plan_code: str, tenant_config: dict[str, Any] | None = None) -> PlanLimits:
    """The limits in force for a tenant: the plan's, with custom overrides for custom plans."""
    plan = get_plan(plan_code)
    overrides = (tenant_config or {}).get("limits") or {}
    if not plan.custom or not overrides:
        return plan.limits
    return replace(plan.limits, **{k: v for k, v in overrides.items() if k in _LIMIT_FIELDS})


# -- the assistant's daily quota (messages_per_day) ----------------------------------------------

#: A day's counter outlives its day a little, so "used today" reads right until midnight UTC
#: wherever the clock of the reader stands.
ASSISTANT_QUOTA_TTL_S = 2 * 24 * 3600


def utc_day() -> int:
    """Today as days since 1970-01-01 (UTC): a key part that costs no date formatting on
    every plain-text message."""
    return int(time.time()) // 86_400


def assistant_quota_key(tenant_id: int, day: int) -> str:
    """The tenant's count of assistant replies asked for on ``day`` (:func:`utc_day`); past the
    limit it keeps counting refusals, so replies answered = min(count, limit)."""
    return f"assistant:quota:{tenant_id}:{day}"


def assistant_notice_key(tenant_id: int, day: int) -> str:
    """Set (NX) when the creator was told the assistant reached its limit on ``day``."""
    return f"assistant:quota-notice:{tenant_id}:{day}"


ASSISTANT_NOTICE_TASK = "notify_assistant_limit"


async def assistant_limit_reached(redis: Redis, tenant_id: int, limit: int | None) -> bool:
    """The assistant refused its first fan today: tell the creator, with an arq job
    (``notify_assistant_limit``). ``SET NX`` per tenant per day keeps it to once a day should
    the limit change during the day. True when this call queued the notice."""
    from arq.connections import ArqRedis

    day = utc_day()
    key = assistant_notice_key(tenant_id, day)
    if not await redis.set(key, b"1", nx=True, ex=ASSISTANT_QUOTA_TTL_S):
        return False
    if isinstance(redis, ArqRedis):
        await redis.enqueue_job(ASSISTANT_NOTICE_TASK, tenant_id, limit, _job_id=key)
    logger.info("assistant quota used up; creator notified", extra={"tenant_id": tenant_id})
    return True
