"""Shapes of the creator's stats API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from tenants.stats.service import KeyNumbers


class KeyNumbersOut(BaseModel):
    total_users: int = Field(description="Fans at the end of the period.")
    new_users: int
    active_today: int
    active_average: int = Field(description="Active fans per day, on average.")
    revenue: int = Field(description="Stars from every kind of sale.")
    refunds: int = Field(description="Stars given back.")
    jobs: int = Field(description="Generations started.")
    credits_spent: int
    tasks_completed: int

    @classmethod
    def of(cls, key: KeyNumbers) -> KeyNumbersOut:
        return cls(
            total_users=key.total_users,
            new_users=key.new_users,
            active_today=key.active_today,
            active_average=key.active_average,
            revenue=key.revenue,
            refunds=key.refunds,
            jobs=key.jobs,
            credits_spent=key.credits_spent,
            tasks_completed=key.tasks_completed,
        )


class StatsOut(BaseModel):
    days: int
    start: date
    end: date = Field(description="Today (UTC), the last day of every series.")
    dates: list[date]
    series: dict[str, list[int]] = Field(
        description=(
            "One value per date for each metric that has data: users.new, users.total, "
            "users.active, users.app, revenue.<kind> (Stars by kind of sale: credits = packs, "
            "ppv, vip, ...), payments.<kind>, refunds.stars, jobs.created, jobs.succeeded, "
            "jobs.failed, credits.spent, tasks.completed, xp.awarded; views, unlocks and "
            "subscribers.* once those areas report."
        )
    )
    totals: dict[str, int] = Field(description="Per metric over the period (stocks: last value).")
    key_numbers: KeyNumbersOut
    previous: KeyNumbersOut = Field(description="The same numbers for the period before.")
    revenue_by_source: dict[str, int]
    updated_at: datetime | None = Field(description="When the rollups were last rebuilt.")
