"""Shapes of the jobs API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from core.models.jobs import JobStatus


class JobError(BaseModel):
    code: str
    message: str


class OutputFile(BaseModel):
    """A file the job made (it lives in the fan's drive); links expire after an hour."""

    id: int
    name: str
    mime_type: str
    size: int
    width: int | None
    height: int | None
    duration: float | None
    url: str
    download_url: str
    thumbnail_url: str | None


class JobSummary(BaseModel):
    id: int
    tool: str
    status: JobStatus
    progress: int
    stage: str
    price: int
    error: JobError | None
    file_ids: list[int]
    workflow_run_id: int | None
    step_index: int | None
    created_at: datetime
    finished_at: datetime | None


class JobOut(JobSummary):
    params: dict[str, Any]
    inputs: dict[str, int]
    text: str | None
    started_at: datetime | None
    outputs: list[OutputFile]


class JobPage(BaseModel):
    jobs: list[JobSummary]
    next_cursor: str | None
