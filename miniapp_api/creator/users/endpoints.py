"""The creator's view of fans: search (name, @username, Telegram id), a fan's detail, their
history (payments, generations, credit movements, tasks, referrals; see
:mod:`tenants.panel.service`) and their conversation with the bot (:mod:`tenants.chatlog`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from bot.i18n import Texts, enabled_languages, pick_language
from core import ledger
from core.models import User
from miniapp_api.creator.dashboard.schemas import EventOut
from miniapp_api.creator.deps import CreatorDep
from miniapp_api.creator.users.schemas import (
    FanDetailOut,
    FanLevelOut,
    FanOut,
    FansOut,
    HistoryOut,
    MessageOut,
    MessagesOut,
)
from miniapp_api.deps import SessionDep
from miniapp_api.tasks.deps import RuntimeDep
from tenants.chatlog import service as chatlog
from tenants.panel import service as panel
from tenants.tasks import service as tasks

router = APIRouter()
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _fan_out(user: User, balance: int) -> FanOut:
    return FanOut(
        id=user.id,
        telegram_id=user.telegram_id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language=user.language or user.language_code,
        is_blocked=user.is_blocked,
        balance=balance,
        created_at=user.created_at,
        last_seen_at=user.last_seen_at,
    )


@router.get("")
async def list_fans(
    creator: CreatorDep,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=64, description="Name, @username or id.")] = None,
    cursor: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{0,18}$")] = None,
    limit: Annotated[int, Query(ge=1, le=panel.MAX_PAGE)] = 50,
) -> FansOut:
    """Fans newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    fans, next_id = await panel.search_fans(
        session,
        creator.tenant.id,
        query=q,
        before_id=int(cursor) if cursor else None,
        limit=limit,
    )
    return FansOut(
        items=[_fan_out(f.user, f.balance) for f in fans],
        next_cursor=str(next_id) if next_id else None,
    )


@router.get("/{user_id}")
async def fan_detail(
    user_id: UserId, creator: CreatorDep, session: SessionDep, runtime: RuntimeDep
) -> FanDetailOut:
    tenant = creator.tenant
    fan = await panel.require_fan(session, tenant.id, user_id)
    balance = await ledger.user_balance(session, tenant.id, fan.id)
    totals = await panel.fan_totals(session, tenant.id, fan.id)
    language = pick_language(
        fan.language, fan.language_code, tenant.default_language, enabled_languages(tenant.config)
    )
    texts = Texts(runtime.i18n, language)
    level = await tasks.fan_level(
        session,
        tenant.id,
        fan.id,
        config=tenant.config or {},
        language=language,
        fallback_language=tenant.default_language,
        translate=texts,
    )
    return FanDetailOut(
        **_fan_out(fan, balance.balance).model_dump(),
        referred_by=fan.referrer_id,
        level=FanLevelOut(xp=level.xp, number=level.number, name=level.name),
        **totals,
    )


@router.get("/{user_id}/history")
async def fan_history(
    user_id: UserId,
    creator: CreatorDep,
    session: SessionDep,
    before: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=panel.MAX_PAGE)] = 50,
) -> HistoryOut:
    """What happened with this fan, newest first."""
    page = await panel.history(session, creator.tenant.id, user_id, before=before, limit=limit)
    return HistoryOut(items=[EventOut.of(e) for e in page.events], next_cursor=page.next_cursor)


@router.get("/{user_id}/messages")
async def fan_messages(
    user_id: UserId,
    creator: CreatorDep,
    session: SessionDep,
    before: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,20}\.[0-9]{1,19}$", description="A next_cursor.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=chatlog.MAX_PAGE)] = 50,
) -> MessagesOut:
    """The fan's conversation with the bot, newest first (kept ``ATELIER_CHAT_HISTORY_DAYS``;
    nothing while the creator has the history switched off)."""
    page = await chatlog.messages(session, creator.tenant.id, user_id, before=before, limit=limit)
    return MessagesOut(
        items=[MessageOut.of(m) for m in page.messages], next_cursor=page.next_cursor
    )
