"""The fans' tasks: list with status and progress, claim (verified on the server), XP and
level, and the explicit "the app is open" ping behind open-the-app streaks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path

from bot.i18n import Texts
from bot.referrals.service import referral_link
from core.errors import NotFoundError
from core.models import TaskKind, Tenant
from miniapp_api.auth.deps import TenantDep, UserDep
from miniapp_api.auth.tokens import CurrentUser
from miniapp_api.clock import NowDep
from miniapp_api.deps import RedisDep, SessionDep
from miniapp_api.tasks import opens
from miniapp_api.tasks.deps import RuntimeDep, TenantBot, tenant_bot, texts_for
from miniapp_api.tasks.schemas import (
    ClaimIn,
    ClaimOut,
    FanTaskOut,
    LevelOut,
    OpenOut,
    RewardOut,
    TasksOut,
)
from miniapp_api.wallet.repository import get_fan
from tenants.stats import activity
from tenants.tasks import messages, service
from tenants.tasks.levels import Level

router = APIRouter()
TaskId = Annotated[int, Path(ge=1, le=2**63 - 1)]
STREAK_REPORTED = 365


@dataclass(frozen=True, slots=True)
class FanView:
    bot: TenantBot
    texts: Texts


async def _view(session: SessionDep, runtime: RuntimeDep, user: CurrentUser) -> FanView:
    found = await tenant_bot(runtime, user)
    fan = await get_fan(session, user.tenant_id, user.user_id)
    if fan is None:
        raise NotFoundError("no such fan in this bot")
    return FanView(found, texts_for(runtime, found.route, fan))


async def _level(session: SessionDep, tenant: Tenant, user: CurrentUser, texts: Texts) -> Level:
    return await service.fan_level(
        session,
        user.tenant_id,
        user.user_id,
        config=tenant.config or {},
        language=texts.locale,
        fallback_language=tenant.default_language,
        translate=texts,
    )


def _task_out(view: FanView, user: CurrentUser, item: service.FanTask) -> FanTaskOut:
    task = item.task
    action_url = task.chat_url
    if task.kind == TaskKind.INVITE_FRIENDS:
        action_url = referral_link(view.bot.route.username, user.user_id)
    return FanTaskOut(
        id=task.id,
        kind=TaskKind(task.kind),
        title=task.title,
        description=task.description,
        target=task.target,
        progress=item.progress,
        status=item.status,
        reward=RewardOut(
            xp=task.reward_xp,
            credits=task.reward_credits,
            post_id=task.reward_post_id,
            text=messages.reward_text(view.texts, task),
        ),
        chat_title=task.chat_title,
        action_url=action_url,
    )


@router.get("")
async def list_tasks(
    user: UserDep, tenant: TenantDep, session: SessionDep, runtime: RuntimeDep, now: NowDep
) -> TasksOut:
    """The bot's active tasks with the fan's status and progress, plus their XP and level."""
    view = await _view(session, runtime, user)
    items = await service.fan_tasks(
        session, user.tenant_id, user.user_id, today=activity.utc_day(now)
    )
    level = await _level(session, tenant, user, view.texts)
    return TasksOut(
        xp=level.xp,
        level=LevelOut.of(level),
        tasks=[_task_out(view, user, item) for item in items],
    )


@router.get("/me")
async def my_level(
    user: UserDep, tenant: TenantDep, session: SessionDep, runtime: RuntimeDep
) -> LevelOut:
    view = await _view(session, runtime, user)
    return LevelOut.of(await _level(session, tenant, user, view.texts))


@router.post("/opens")
async def app_opened(
    user: UserDep, session: SessionDep, redis: RedisDep, background: BackgroundTasks, now: NowDep
) -> OpenOut:
    """The Mini App is open (call it when the page becomes visible): counts for today's
    active fans and the open-the-app streak, at most once a day."""
    await opens.record_app_open(
        session, redis, background, tenant_id=user.tenant_id, user_id=user.user_id, now=now
    )
    await session.flush()
    streak = await activity.app_streak(
        session,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        today=activity.utc_day(now),
        longest=STREAK_REPORTED,
    )
    return OpenOut(streak=streak)


@router.post("/{task_id}/claim")
async def claim_task(
    task_id: TaskId,
    body: ClaimIn,
    user: UserDep,
    tenant: TenantDep,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
) -> ClaimOut:
    """Verify the task now and reward it if done (once, however often it is claimed)."""
    view = await _view(session, runtime, user)
    result = await service.claim(
        session,
        view.bot.bot,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        telegram_id=user.telegram_id,
        task_id=task_id,
        proof=body.proof,
        now=now,
    )
    items = await service.fan_tasks(
        session, user.tenant_id, user.user_id, today=activity.utc_day(now)
    )
    item = next(i for i in items if i.task.id == task_id)
    level = await _level(session, tenant, user, view.texts)
    return ClaimOut(
        outcome=result.outcome,
        message=messages.outcome_text(view.texts, result),
        task=_task_out(view, user, item),
        level=LevelOut.of(level),
    )
