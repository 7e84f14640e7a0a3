"""Plans and their limits, as data. ``None`` means unlimited; Enterprise limits are custom
per tenant (``tenant.config["limits"]``) on top of the Enterprise defaults."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

GIB = 1024**3


@dataclass(frozen=True, slots=True)
class PlanLimits:
    max_groups: int | None
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
