"""Tasks fans complete for rewards (XP, credits, a post unlock), and their completions.

What the database guarantees: a fan completes a task at most once — UNIQUE (task_id, user_id) on
``task_completions`` — and the row's status moves to ``completed`` by one conditional UPDATE, so
the reward that follows that move (XP is the completion's ``xp``; credits go through the ledger
keyed by the completion) is given exactly once however many claims race.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import SERVER_NOW, Base, BigIntId, TenantOwned, TimestampMixin, utcnow


class TaskKind(StrEnum):
    JOIN_CHANNEL = "join_channel"  # verified with getChatMember; the bot must be admin there
    INVITE_FRIENDS = "invite_friends"  # ``target`` referrals
    OPEN_APP_STREAK = "open_app_streak"  # the Mini App opened ``target`` UTC days in a row
    CUSTOM = "custom"  # the fan sends proof, the creator approves


class CompletionStatus(StrEnum):
    PENDING = "pending"  # custom task: proof sent, waiting for the creator
    COMPLETED = "completed"  # rewarded
    REJECTED = "rejected"  # custom task: the creator said no; the fan may send proof again


class TaskProblem(StrEnum):
    """Why a task cannot be verified right now (shown in the panel, never to fans)."""

    BOT_NOT_ADMIN = "bot_not_admin"
    CHAT_NOT_FOUND = "chat_not_found"


class Task(TenantOwned, TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('join_channel', 'invite_friends', 'open_app_streak', 'custom')",
            name="kind_known",
        ),
        CheckConstraint("target >= 1", name="target_positive"),
        CheckConstraint("reward_xp >= 0 AND reward_credits >= 0", name="rewards_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[int] = mapped_column(Integer, default=1)  # friends or days; 1 otherwise
    # join_channel: the chat as Telegram resolved it when the task was saved
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_title: Mapped[str | None] = mapped_column(String(255))
    chat_url: Mapped[str | None] = mapped_column(String(512))
    reward_xp: Mapped[int] = mapped_column(Integer, default=0)
    reward_credits: Mapped[int] = mapped_column(Integer, default=0)
    # A post unlocked on completion (the posts area's id; linked once that area is merged).
    reward_post_id: Mapped[int | None] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    problem: Mapped[TaskProblem | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(
        server_default=SERVER_NOW, default=utcnow, onupdate=utcnow
    )


class TaskCompletion(TenantOwned, TimestampMixin, Base):
    __tablename__ = "task_completions"
    tenant_id_indexed = False  # the two composite indexes below lead with it
    __table_args__ = (
        UniqueConstraint("task_id", "user_id"),
        CheckConstraint("status IN ('pending', 'completed', 'rejected')", name="status_known"),
        Index("ix_task_completions_tenant_id_user_id", "tenant_id", "user_id"),
        Index("ix_task_completions_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    task_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[CompletionStatus] = mapped_column(String(16))
    proof: Mapped[str | None] = mapped_column(Text)
    # The reward as given (a later edit of the task does not rewrite history).
    xp: Mapped[int] = mapped_column(Integer, default=0)
    credits: Mapped[int] = mapped_column(Integer, default=0)
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger)  # the admin's Telegram id
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(
        server_default=SERVER_NOW, default=utcnow, onupdate=utcnow
    )
