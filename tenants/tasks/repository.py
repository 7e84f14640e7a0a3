"""All SQL of the tasks area; every statement is scoped to one tenant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select, utcnow
from core.models import (
    CompletionStatus,
    Referral,
    Task,
    TaskCompletion,
    TaskKind,
    TaskProblem,
    User,
)

COMPLETED = CompletionStatus.COMPLETED.value


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    return pg_insert if dialect == "postgresql" else sqlite_insert


async def list_tasks(session: AsyncSession, tenant_id: int, *, active_only: bool) -> Sequence[Task]:
    statement = tenant_select(Task, tenant_id).order_by(Task.position, Task.id)
    if active_only:
        statement = statement.where(Task.is_active.is_(True))
    return (await session.execute(statement)).scalars().all()


async def get_task(session: AsyncSession, tenant_id: int, task_id: int) -> Task | None:
    return await session.scalar(tenant_select(Task, tenant_id).where(Task.id == task_id))


async def completions_of(
    session: AsyncSession, tenant_id: int, user_id: int
) -> dict[int, TaskCompletion]:
    rows = await session.execute(
        tenant_select(TaskCompletion, tenant_id).where(TaskCompletion.user_id == user_id)
    )
    return {row.task_id: row for row in rows.scalars()}


async def xp_of(session: AsyncSession, tenant_id: int, user_id: int) -> int:
    total = await session.scalar(
        tenant_select(TaskCompletion, tenant_id)
        .with_only_columns(func.coalesce(func.sum(TaskCompletion.xp), 0))
        .where(TaskCompletion.user_id == user_id, TaskCompletion.status == COMPLETED)
    )
    return int(total or 0)


async def referral_count(session: AsyncSession, tenant_id: int, user_id: int) -> int:
    count = await session.scalar(
        tenant_select(Referral, tenant_id)
        .with_only_columns(func.count())
        .where(Referral.referrer_id == user_id)
    )
    return int(count or 0)


async def complete(
    session: AsyncSession,
    *,
    tenant_id: int,
    task_id: int,
    user_id: int,
    xp: int,
    credits: int,
    now: datetime,
) -> int | None:
    """Mark (task, fan) completed; the completion id when *this* statement completed it,
    None when it already was. One statement, so racing claims cannot both win."""
    table = TaskCompletion.__table__
    statement = (
        _insert(session)(TaskCompletion)
        .values(
            tenant_id=tenant_id,
            task_id=task_id,
            user_id=user_id,
            status=COMPLETED,
            xp=xp,
            credits=credits,
            completed_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["task_id", "user_id"],
            set_={
                "status": COMPLETED,
                "xp": xp,
                "credits": credits,
                "completed_at": now,
                "updated_at": now,
            },
            where=table.c.status != COMPLETED,
        )
        .returning(TaskCompletion.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def submit_proof(
    session: AsyncSession, *, tenant_id: int, task_id: int, user_id: int, proof: str
) -> int | None:
    """Store (or replace) a fan's proof for review; None when the task is already completed."""
    table = TaskCompletion.__table__
    now = utcnow()
    pending = CompletionStatus.PENDING.value
    statement = (
        _insert(session)(TaskCompletion)
        .values(
            tenant_id=tenant_id,
            task_id=task_id,
            user_id=user_id,
            status=pending,
            proof=proof,
            xp=0,
            credits=0,
        )
        .on_conflict_do_update(
            index_elements=["task_id", "user_id"],
            set_={"status": pending, "proof": proof, "reviewed_by": None, "updated_at": now},
            where=table.c.status != COMPLETED,
        )
        .returning(TaskCompletion.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def get_completion(
    session: AsyncSession, tenant_id: int, completion_id: int
) -> TaskCompletion | None:
    return await session.scalar(
        tenant_select(TaskCompletion, tenant_id).where(TaskCompletion.id == completion_id)
    )


async def review(
    session: AsyncSession,
    *,
    tenant_id: int,
    completion_id: int,
    approve: bool,
    by_telegram_id: int,
    xp: int,
    credits: int,
    now: datetime,
) -> bool:
    """Move a pending submission to completed or rejected; False when it was not pending
    any more (another admin was faster)."""
    values: dict[str, Any] = {"reviewed_by": by_telegram_id, "updated_at": now}
    if approve:
        values.update(status=COMPLETED, xp=xp, credits=credits, completed_at=now)
    else:
        values.update(status=CompletionStatus.REJECTED.value)
    result = await session.execute(
        update(TaskCompletion)
        .where(
            TaskCompletion.tenant_id == tenant_id,
            TaskCompletion.id == completion_id,
            TaskCompletion.status == CompletionStatus.PENDING.value,
        )
        .values(**values)
        .returning(TaskCompletion.id)
    )
    return result.scalar_one_or_none() is not None


async def submissions(
    session: AsyncSession,
    tenant_id: int,
    *,
    status: CompletionStatus,
    before_id: int | None,
    limit: int,
) -> list[tuple[TaskCompletion, str, User]]:
    """Custom-task submissions with their task's title and the fan, newest first."""
    statement = (
        tenant_select(TaskCompletion, tenant_id)
        .join(Task, (Task.id == TaskCompletion.task_id) & (Task.tenant_id == tenant_id))
        .join(User, (User.id == TaskCompletion.user_id) & (User.tenant_id == tenant_id))
        .add_columns(Task.title, User)
        .where(TaskCompletion.status == status.value, Task.kind == TaskKind.CUSTOM.value)
        .order_by(TaskCompletion.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        statement = statement.where(TaskCompletion.id < before_id)
    rows = (await session.execute(statement)).all()
    return [(row[0], row[1], row[2]) for row in rows]


async def set_problem(
    session: AsyncSession, tenant_id: int, task_id: int, problem: TaskProblem | None
) -> None:
    await session.execute(
        update(Task)
        .where(Task.tenant_id == tenant_id, Task.id == task_id)
        .values(problem=problem.value if problem else None)
    )


async def completion_counts(session: AsyncSession, tenant_id: int) -> dict[int, dict[str, int]]:
    """Per task: how many fans completed it and how many proofs wait for review."""
    rows = await session.execute(
        tenant_select(TaskCompletion, tenant_id)
        .with_only_columns(TaskCompletion.task_id, TaskCompletion.status, func.count())
        .group_by(TaskCompletion.task_id, TaskCompletion.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for task_id, status, count in rows.all():
        counts.setdefault(task_id, {})[str(status)] = int(count)
    return counts
