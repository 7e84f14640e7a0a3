"""Shapes of the creator's tasks API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.models import TaskKind, TaskProblem

PROBLEM_MESSAGES = {
    TaskProblem.BOT_NOT_ADMIN: (
        "The bot is not an administrator of this chat any more, so fans cannot be checked. "
        "Make it an administrator again."
    ),
    TaskProblem.CHAT_NOT_FOUND: (
        "The bot is not in this chat any more (or the chat is gone). Add it back as an "
        "administrator."
    ),
}


class TaskIn(BaseModel):
    kind: TaskKind
    title: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=2000)
    target: int = Field(default=1, ge=1, le=1000)
    chat: str | None = Field(
        default=None,
        max_length=128,
        description="join_channel: @username, a t.me link or the numeric chat id.",
    )
    chat_url: str | None = Field(
        default=None, max_length=512, description="An invite link for a private channel."
    )
    reward_xp: int = Field(default=0, ge=0, le=100_000)
    reward_credits: int = Field(default=0, ge=0, le=1_000_000)
    reward_post_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    is_active: bool = True
    position: int = Field(default=0, ge=0, le=10_000)


class TaskPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=128)
    description: str | None = Field(default=None, max_length=2000)
    target: int | None = Field(default=None, ge=1, le=1000)
    chat: str | None = Field(default=None, max_length=128)
    chat_url: str | None = Field(default=None, max_length=512)
    reward_xp: int | None = Field(default=None, ge=0, le=100_000)
    reward_credits: int | None = Field(default=None, ge=0, le=1_000_000)
    reward_post_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    is_active: bool | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)


class CreatorTaskOut(BaseModel):
    id: int
    kind: TaskKind
    title: str
    description: str
    target: int
    chat_id: int | None
    chat_title: str | None
    chat_url: str | None
    reward_xp: int
    reward_credits: int
    reward_post_id: int | None
    is_active: bool
    position: int
    completed: int = Field(description="Fans who completed it.")
    pending: int = Field(description="Proofs waiting for review (custom tasks).")
    problem: TaskProblem | None = Field(description="Why fans cannot be checked right now.")
    problem_message: str | None
    created_at: datetime


class TasksListOut(BaseModel):
    items: list[CreatorTaskOut]


class ChatCheckIn(BaseModel):
    chat: str = Field(min_length=1, max_length=128)


class ChatCheckOut(BaseModel):
    chat_id: int | None
    title: str | None
    username: str | None
    type: str | None
    bot_status: str | None = Field(description="The bot's own status there, if it is in it.")
    bot_is_admin: bool
    problem: TaskProblem | None
    message: str | None = Field(description="What to fix, when the bot cannot verify fans.")


class SubmissionOut(BaseModel):
    id: int
    task_id: int
    task_title: str
    user_id: int
    telegram_id: int
    user_name: str
    username: str | None
    status: str
    proof: str | None
    created_at: datetime
    updated_at: datetime


class SubmissionsOut(BaseModel):
    items: list[SubmissionOut]
    next_cursor: str | None


class LevelIn(BaseModel):
    xp: int = Field(ge=0, le=10**9)
    names: dict[str, str] = Field(default_factory=dict)


class LevelsIn(BaseModel):
    levels: list[LevelIn] | None = Field(
        default=None, description="The ladder; null or empty puts the default one back."
    )


class LevelOut(BaseModel):
    number: int
    xp: int
    names: dict[str, str] = Field(description="The name in each language, as fans see it.")


class LevelsOut(BaseModel):
    custom: bool
    levels: list[LevelOut]
