"""All SQL of the managed chats: every statement starts from the tenant's rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import BotStatus, ManagedChat, Task, TaskKind, Tenant, VipPackage

PRESENT = (BotStatus.MEMBER.value, BotStatus.ADMINISTRATOR.value)


async def lock_tenant(session: AsyncSession, tenant_id: int) -> Tenant | None:
    """The tenant row, locked until commit: membership changes of one tenant run one at a
    time, so two groups added at once cannot both take the plan's last place."""
    statement = select(Tenant).where(Tenant.id == tenant_id).with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def by_chat_id(session: AsyncSession, tenant_id: int, chat_id: int) -> ManagedChat | None:
    statement = tenant_select(ManagedChat, tenant_id).where(ManagedChat.chat_id == chat_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def by_id(session: AsyncSession, tenant_id: int, row_id: int) -> ManagedChat | None:
    statement = tenant_select(ManagedChat, tenant_id).where(ManagedChat.id == row_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def all_chats(session: AsyncSession, tenant_id: int) -> Sequence[ManagedChat]:
    """Chats the bot is in first, then the ones it left; newest change first in each."""
    present_first = ManagedChat.bot_status.in_(PRESENT).desc()
    statement = tenant_select(ManagedChat, tenant_id).order_by(
        present_first, ManagedChat.updated_at.desc(), ManagedChat.id.desc()
    )
    return (await session.execute(statement)).scalars().all()


async def count_present(session: AsyncSession, tenant_id: int) -> int:
    statement = (
        select(func.count())
        .select_from(ManagedChat)
        .where(ManagedChat.tenant_id == tenant_id, ManagedChat.bot_status.in_(PRESENT))
    )
    return int((await session.execute(statement)).scalar_one())


async def chat_uses(session: AsyncSession, tenant_id: int) -> dict[int, set[str]]:
    """Chat id → the features that use it: active VIP packages' channels, active join tasks."""
    uses: dict[int, set[str]] = {}
    vip = select(VipPackage.channel_chat_id).where(
        VipPackage.tenant_id == tenant_id,
        VipPackage.is_active.is_(True),
        VipPackage.channel_chat_id.is_not(None),
    )
    tasks = select(Task.chat_id).where(
        Task.tenant_id == tenant_id,
        Task.is_active.is_(True),
        Task.kind == TaskKind.JOIN_CHANNEL.value,
        Task.chat_id.is_not(None),
    )
    for feature, statement in (("vip", vip), ("task", tasks)):
        for chat_id in (await session.execute(statement)).scalars():
            if chat_id is not None:  # filtered above; narrows the type
                uses.setdefault(chat_id, set()).add(feature)
    return uses
