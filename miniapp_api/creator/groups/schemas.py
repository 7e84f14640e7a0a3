"""Shapes of the creator's managed groups API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.models import RIGHTS
from miniapp_api.creator.settings.schemas import LimitOut
from tenants.groups.service import ChatView


class GroupOut(BaseModel):
    id: int
    chat_id: int
    type: str = Field(description="group, supergroup or channel")
    title: str
    username: str | None
    bot_status: str = Field(description="member, administrator, left or kicked")
    rights: dict[str, bool] = Field(description="The bot's administrator rights that matter.")
    member_count: int | None = Field(description="null: not known (yet).")
    added_by: int | None = Field(description="Telegram id of who added the bot.")
    refused: bool = Field(description="The bot left because the plan had no room for it.")
    refused_at: datetime | None
    used_by: list[str] = Field(description="Features using this chat: vip, task.")
    missing: list[str] = Field(
        description="What those features need and the bot lacks here: 'administrator' or a "
        "right's name (can_invite_users, ...)."
    )
    updated_at: datetime

    @classmethod
    def of(cls, view: ChatView) -> GroupOut:
        chat = view.chat
        return cls(
            id=chat.id,
            chat_id=chat.chat_id,
            type=str(chat.type),
            title=chat.title,
            username=chat.username,
            bot_status=str(chat.bot_status),
            rights={name: bool(getattr(chat, name)) for name in RIGHTS},
            member_count=chat.member_count,
            added_by=chat.added_by_telegram_id,
            refused=chat.refused_at is not None,
            refused_at=chat.refused_at,
            used_by=view.used_by,
            missing=view.missing,
            updated_at=chat.updated_at,
        )


class GroupsOut(BaseModel):
    items: list[GroupOut]
    usage: LimitOut = Field(description="Chats the bot is in, against the plan's max_groups.")
