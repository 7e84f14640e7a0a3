"""Shapes shared by the panel API, the bot and the worker: audience specs, progress events."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.models.broadcasts import BroadcastStatus

AudienceKind = Literal["all", "inactive", "language", "vip"]


class AudienceSpec(BaseModel):
    """Who receives a broadcast. ``inactive`` needs ``days`` (not seen for that long),
    ``language`` a language code, ``vip`` optionally one ``package_id`` (all packages when
    omitted). Blocked fans never count."""

    kind: AudienceKind = "all"
    days: int | None = Field(default=None, ge=1, le=3650)
    language: str | None = Field(default=None, min_length=2, max_length=8)
    package_id: int | None = Field(default=None, gt=0, lt=2**63)


class Progress(BaseModel):
    """One broadcast's live counters, as published to ``broadcast:{tenant}:{id}``.

    ``rate`` is messages per second over the last few seconds; ``eta_s`` the seconds left at
    that rate (None when unknown). ``seq`` grows with every event (stale ones are dropped)."""

    id: int
    status: BroadcastStatus
    total: int
    sent: int
    failed: int
    blocked: int
    unconfirmed: int
    throttled: int
    rate: float = 0.0
    eta_s: float | None = None
    seq: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.unconfirmed
