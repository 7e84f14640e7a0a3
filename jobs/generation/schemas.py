"""Shapes at the edges of generation: a job as the API/bot shows it, progress events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.models.jobs import JobStatus, RunStatus


class JobView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tool_slug: str
    status: JobStatus
    progress: int
    stage: str
    params: dict[str, Any]
    inputs: dict[str, int]
    price: int
    error_code: str | None
    error_message: str | None
    result: dict[str, Any]
    workflow_run_id: int | None
    step_index: int | None
    created_at: datetime
    finished_at: datetime | None


class WorkflowRunView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str | None
    status: RunStatus
    current_step: int
    steps: list[dict[str, Any]]
    price: int
    error_message: str | None


class ProgressEvent(BaseModel):
    """What ``jobs:{tenant_id}:{user_id}`` and ``job:{job_id}`` carry, as JSON.

    ``seq`` grows with every event of a job (microseconds, kept strictly increasing per
    publisher), so a subscriber that also reads the last state can drop what it has seen.
    """

    id: int
    tenant_id: int
    user_id: int
    tool: str
    status: JobStatus
    progress: int
    stage: str
    seq: int
    workflow_run_id: int | None = None
    step_index: int | None = None
    error: dict[str, str] | None = None
    file_ids: list[int] = Field(default_factory=list)
    text: str | None = None
