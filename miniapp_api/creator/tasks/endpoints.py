"""``/api/v1/creator/tasks``: the creator's side of tasks and XP (owner and co-admins only).

Saving a join-a-channel task asks Telegram, as the tenant's bot, whether the bot is an
administrator of the chat, and refuses with ``chat_not_found`` / ``bot_not_admin`` (422) and a
message saying what to fix; ``POST /check-chat`` asks the same without saving anything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query, Response, status
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import SUPPORTED_LANGUAGES, Texts
from core.models import CompletionStatus, Task, TaskCompletion, TaskKind, User
from miniapp_api.clock import NowDep
from miniapp_api.creator.deps import Creator, CreatorDep
from miniapp_api.creator.tasks.schemas import (
    PROBLEM_MESSAGES,
    ChatCheckIn,
    ChatCheckOut,
    CreatorTaskOut,
    LevelOut,
    LevelsIn,
    LevelsOut,
    SubmissionOut,
    SubmissionsOut,
    TaskIn,
    TaskPatch,
    TasksListOut,
)
from miniapp_api.deps import RedisDep, SessionDep
from miniapp_api.tasks.deps import RuntimeDep, tenant_bot, texts_for
from tenants.tasks import levels, messages, service, verify
from tenants.tasks import repository as repo
from tenants.users import send_to_user
from tenants.webhooks import bump_route_version

router = APIRouter()
TaskId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SubmissionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE = 50


def _task_out(task: Task, counts: dict[int, dict[str, int]]) -> CreatorTaskOut:
    mine = counts.get(task.id, {})
    problem = service.problem_of(task)
    return CreatorTaskOut(
        id=task.id,
        kind=TaskKind(task.kind),
        title=task.title,
        description=task.description,
        target=task.target,
        chat_id=task.chat_id,
        chat_title=task.chat_title,
        chat_url=task.chat_url,
        reward_xp=task.reward_xp,
        reward_credits=task.reward_credits,
        reward_post_id=task.reward_post_id,
        is_active=task.is_active,
        position=task.position,
        completed=mine.get(CompletionStatus.COMPLETED.value, 0),
        pending=mine.get(CompletionStatus.PENDING.value, 0),
        problem=problem,
        problem_message=PROBLEM_MESSAGES.get(problem) if problem else None,
        created_at=task.created_at,
    )


async def _one(session: AsyncSession, task: Task) -> CreatorTaskOut:
    return _task_out(task, await service.task_counts(session, task.tenant_id))


@router.get("")
async def list_tasks(creator: CreatorDep, session: SessionDep) -> TasksListOut:
    """Every task, archived ones too, with completion counts and verification problems."""
    tenant_id = creator.tenant.id
    tasks = await repo.list_tasks(session, tenant_id, active_only=False)
    counts = await service.task_counts(session, tenant_id)
    return TasksListOut(items=[_task_out(task, counts) for task in tasks])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_task(
    body: TaskIn, creator: CreatorDep, session: SessionDep, runtime: RuntimeDep
) -> CreatorTaskOut:
    bot = None
    if body.kind is TaskKind.JOIN_CHANNEL:
        bot = (await tenant_bot(runtime, creator.user)).bot
    draft = service.TaskDraft(**body.model_dump())
    task = await service.create_task(session, bot, creator.tenant.id, draft)
    return await _one(session, task)


@router.post("/check-chat")
async def check_chat(body: ChatCheckIn, creator: CreatorDep, runtime: RuntimeDep) -> ChatCheckOut:
    """Can the bot verify fans in this chat? Asks Telegram now, saves nothing."""
    bot = (await tenant_bot(runtime, creator.user)).bot
    access = await verify.chat_access(bot, verify.parse_chat_ref(body.chat))
    return ChatCheckOut(
        chat_id=access.chat_id,
        title=access.title,
        username=access.username,
        type=access.type,
        bot_status=access.bot_status,
        bot_is_admin=access.problem is None,
        problem=access.problem,
        message=PROBLEM_MESSAGES.get(access.problem) if access.problem else None,
    )


@router.get("/submissions")
async def list_submissions(
    creator: CreatorDep,
    session: SessionDep,
    state: Annotated[CompletionStatus, Query(alias="status")] = CompletionStatus.PENDING,
    cursor: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{0,18}$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = PAGE,
) -> SubmissionsOut:
    """Proofs of custom tasks, newest first; pass ``next_cursor`` back as ``cursor``."""
    rows = await repo.submissions(
        session,
        creator.tenant.id,
        status=state,
        before_id=int(cursor) if cursor else None,
        limit=limit + 1,
    )
    items = [_submission_out(completion, title, fan) for completion, title, fan in rows[:limit]]
    next_cursor = str(items[-1].id) if len(rows) > limit else None
    return SubmissionsOut(items=items, next_cursor=next_cursor)


def _submission_out(completion: TaskCompletion, title: str, fan: User) -> SubmissionOut:
    return SubmissionOut(
        id=completion.id,
        task_id=completion.task_id,
        task_title=title,
        user_id=fan.id,
        telegram_id=fan.telegram_id,
        user_name=" ".join(p for p in (fan.first_name, fan.last_name) if p),
        username=fan.username,
        status=str(completion.status),
        proof=completion.proof,
        created_at=completion.created_at,
        updated_at=completion.updated_at,
    )


@router.post("/submissions/{submission_id}/approve")
async def approve_submission(
    submission_id: SubmissionId,
    creator: CreatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    redis: RedisDep,
    background: BackgroundTasks,
    now: NowDep,
) -> SubmissionOut:
    """Approve a proof: the fan is rewarded (once) and told in the chat."""
    return await _review(submission_id, True, creator, session, runtime, redis, background, now)


@router.post("/submissions/{submission_id}/reject")
async def reject_submission(
    submission_id: SubmissionId,
    creator: CreatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    redis: RedisDep,
    background: BackgroundTasks,
    now: NowDep,
) -> SubmissionOut:
    """Reject a proof; the fan is told and may send a new one."""
    return await _review(submission_id, False, creator, session, runtime, redis, background, now)


async def _review(
    submission_id: int,
    approve: bool,
    creator: Creator,
    session: AsyncSession,
    runtime: RuntimeDep,
    redis: Redis,
    background: BackgroundTasks,
    now: NowDep,
) -> SubmissionOut:
    result = await service.review(
        session,
        creator.tenant.id,
        submission_id,
        approve=approve,
        by_telegram_id=creator.user.telegram_id,
        now=now,
    )
    fan = await session.get(User, result.completion.user_id)
    assert fan is not None and fan.tenant_id == creator.tenant.id
    found = await tenant_bot(runtime, creator.user)
    texts = texts_for(runtime, found.route, fan)
    task = result.task
    text = (
        texts("tasks.approved", title=task.title, reward=messages.reward_text(texts, task))
        if approve
        else texts("tasks.rejected", title=task.title)
    )
    background.add_task(
        send_to_user,
        found.bot,
        factory=runtime.session_factory,
        redis=redis,
        tenant_id=creator.tenant.id,
        telegram_id=fan.telegram_id,
        text=text,
    )
    return _submission_out(result.completion, task.title, fan)


@router.get("/levels")
async def get_levels(creator: CreatorDep, runtime: RuntimeDep) -> LevelsOut:
    """The XP ladder with each level's name in every language, as fans see it."""
    return _levels_out(creator, runtime)


@router.put("/levels")
async def set_levels(
    body: LevelsIn,
    creator: CreatorDep,
    runtime: RuntimeDep,
    redis: RedisDep,
    background: BackgroundTasks,
) -> LevelsOut:
    """Set the tenant's own ladder (thresholds and names), or put the default one back."""
    config = dict(creator.tenant.config or {})
    if body.levels:
        ladder = levels.parse_ladder([level.model_dump() for level in body.levels])
        config["levels"] = levels.dump_ladder(ladder)
    else:
        config.pop("levels", None)
    creator.tenant.config = config
    background.add_task(bump_route_version, redis, creator.user.bot_id)
    return _levels_out(creator, runtime)


def _levels_out(creator: Creator, runtime: RuntimeDep) -> LevelsOut:
    config = creator.tenant.config or {}
    ladder = levels.ladder(config)
    out = []
    for number, spec in enumerate(ladder, start=1):
        names = {}
        for language in SUPPORTED_LANGUAGES:
            texts = Texts(runtime.i18n, language)
            names[language] = levels.name_of(
                spec, number, language, creator.tenant.default_language, texts
            )
        out.append(LevelOut(number=number, xp=spec.xp, names=names))
    return LevelsOut(custom=bool(config.get("levels")), levels=out)


@router.get("/{task_id}")
async def get_task(task_id: TaskId, creator: CreatorDep, session: SessionDep) -> CreatorTaskOut:
    return await _one(session, await service.get_task(session, creator.tenant.id, task_id))


@router.patch("/{task_id}")
async def update_task(
    task_id: TaskId,
    body: TaskPatch,
    creator: CreatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> CreatorTaskOut:
    changes = body.model_dump(exclude_unset=True)
    bot = (await tenant_bot(runtime, creator.user)).bot if changes.get("chat") else None
    task = await service.update_task(session, bot, creator.tenant.id, task_id, changes)
    return await _one(session, task)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def archive_task(task_id: TaskId, creator: CreatorDep, session: SessionDep) -> Response:
    """Archive: fans no longer see it; completions (and the XP they gave) stay."""
    await service.archive_task(session, creator.tenant.id, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{task_id}/recheck")
async def recheck_task(
    task_id: TaskId, creator: CreatorDep, session: SessionDep, runtime: RuntimeDep
) -> CreatorTaskOut:
    """Ask Telegram again whether fans can be checked (after fixing the bot's rights)."""
    bot = (await tenant_bot(runtime, creator.user)).bot
    await service.recheck_chat(session, bot, creator.tenant.id, task_id)
    return await _one(session, await service.get_task(session, creator.tenant.id, task_id))
