"""Generation jobs, saved workflows and workflow runs.

A :class:`Job` is one tool run for one user: its parameters, its price (reserved in the ledger
when it was created and captured or released exactly once when it ends), and its live state
(status, progress, stage) that the worker updates. A :class:`WorkflowRun` is a chain of jobs
whose outputs feed the next step; a :class:`Workflow` is a user's saved, reusable chain.

Crash safety rests on the schema as much as on the code: status moves are conditional updates
(``UPDATE ... WHERE status IN (...)``), a running job carries a lease token and a heartbeat, and
one workflow step has at most one job (UNIQUE ``workflow_run_id, step_index``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import SERVER_NOW, Base, BigIntId, TenantOwned, TimestampMixin, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(TenantOwned, TimestampMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        UniqueConstraint("workflow_run_id", "step_index"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("price >= 0 AND base_cost >= 0", name="amounts_non_negative"),
        Index("ix_jobs_tenant_id_user_id_status", "tenant_id", "user_id", "status"),
        Index("ix_jobs_status_heartbeat_at", "status", "heartbeat_at"),
        # A tenant's jobs by time: the stats rollups' windows and the panel's history pages.
        Index("ix_jobs_tenant_id_created_at", "tenant_id", "created_at"),
    )
    tenant_id_indexed = False  # (tenant_id, created_at) leads with it

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    tool_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tools.id"), index=True)
    tool_slug: Mapped[str] = mapped_column(String(64))
    status: Mapped[JobStatus] = mapped_column(String(16), default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(64), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Input files by parameter name: {"image": <file id>, ...}
    inputs: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    units: Mapped[int] = mapped_column(Integer, default=1)
    price: Mapped[int] = mapped_column(BigInteger, default=0)  # fan credits, quoted and held
    base_cost: Mapped[int] = mapped_column(BigInteger, default=0)  # tenant's platform credits
    # The ledger reservations (``reserve`` entry ids) this job settles exactly once.
    fan_reservation_id: Mapped[int | None] = mapped_column(BigInteger)
    tenant_reservation_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    heartbeat_at: Mapped[datetime | None]
    cancel_requested_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    # What the job made: {"file_ids": [...], "text": "..."} — the files are the real record.
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    workflow_run_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("workflow_runs.id", ondelete="SET NULL")
    )
    step_index: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=SERVER_NOW, default=utcnow, onupdate=utcnow
    )


class Workflow(TenantOwned, TimestampMixin, Base):
    """A user's saved chain of steps: ``[{"tool": slug, "params": {...}}, ...]``."""

    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "name"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=SERVER_NOW, default=utcnow, onupdate=utcnow
    )


class WorkflowRun(TenantOwned, TimestampMixin, Base):
    """One run of a chain. ``steps`` is the priced snapshot: per step the tool, params, units,
    price, base cost and the ids of its two ledger reservations, all made up front."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'cancelled')", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    workflow_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("workflows.id", ondelete="SET NULL")
    )
    name: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[RunStatus] = mapped_column(String(16), default=RunStatus.RUNNING)
    current_step: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    price: Mapped[int] = mapped_column(BigInteger, default=0)
    base_cost: Mapped[int] = mapped_column(BigInteger, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(
        server_default=SERVER_NOW, default=utcnow, onupdate=utcnow
    )
