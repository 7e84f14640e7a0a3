"""Typed errors of generation jobs (rendered by the API and the bot like every AtelierError)."""

from __future__ import annotations

from core.errors import AtelierError, ConflictError


class TenantUnavailableError(AtelierError):
    """The tenant's platform balance cannot cover the run: the service is temporarily
    unavailable for its fans (and nothing was charged)."""

    status_code = 503
    code = "tenant_unavailable"


class PlanLimitError(AtelierError):
    """Too many jobs at once, or today, for the tenant's plan."""

    status_code = 429
    code = "plan_limit"


class JobFinishedError(ConflictError):
    """The job already ended; it can no longer be cancelled."""

    code = "job_finished"
