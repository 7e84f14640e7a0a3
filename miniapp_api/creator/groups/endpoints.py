"""The groups, supergroups and channels the tenant's bot is in: list with usage against the
plan, refresh from Telegram, and leave."""

from __future__ import annotations

from typing import Annotated

from aiogram import Bot
from fastapi import APIRouter, Path, Response, status

from core.errors import NotFoundError
from core.models import ManagedChat
from miniapp_api.creator.deps import Creator, CreatorDep
from miniapp_api.creator.groups.schemas import GroupOut, GroupsOut
from miniapp_api.creator.settings.schemas import LimitOut
from miniapp_api.deps import SessionDep
from miniapp_api.tasks.deps import RuntimeDep
from tenants.groups import service as groups
from tenants.plans import effective_limits

router = APIRouter()
GroupId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("")
async def list_groups(creator: CreatorDep, session: SessionDep) -> GroupsOut:
    tenant = creator.tenant
    views = await groups.chat_views(session, tenant.id)
    return GroupsOut(
        items=[GroupOut.of(view) for view in views],
        usage=LimitOut(
            limit=effective_limits(tenant.plan, tenant.config).max_groups,
            used=sum(1 for view in views if view.present),
        ),
    )


async def _bot(runtime: RuntimeDep, creator: Creator, chat: ManagedChat) -> Bot:
    """The tenant's bot that is (or was) in the chat."""
    route = await runtime.routes.get(chat.bot_id)
    if route is None or not route.active or route.tenant.id != creator.tenant.id:
        raise NotFoundError("this bot is not available")
    return runtime.bots.get(route)


@router.post("/{group_id}/refresh")
async def refresh_group(
    group_id: GroupId, creator: CreatorDep, session: SessionDep, runtime: RuntimeDep
) -> GroupOut:
    """Read the chat, the bot's status and rights and the member count from Telegram again."""
    chat = await groups.get_chat(session, creator.tenant.id, group_id)
    await groups.refresh(session, await _bot(runtime, creator, chat), chat)
    return GroupOut.of(await groups.chat_view(session, chat))


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def leave_group(
    group_id: GroupId, creator: CreatorDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The bot leaves the chat; the chat stays listed as left."""
    chat = await groups.get_chat(session, creator.tenant.id, group_id)
    await groups.leave(session, await _bot(runtime, creator, chat), chat)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
