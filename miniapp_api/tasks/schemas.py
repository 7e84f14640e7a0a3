"""Shapes of the fans' tasks API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.models import TaskKind
from tenants.tasks.levels import Level
from tenants.tasks.service import Outcome


class RewardOut(BaseModel):
    xp: int
    credits: int
    post_id: int | None = Field(description="A post the task unlocks (posts area).")
    text: str = Field(description="The reward in the fan's language, e.g. '50 XP, 10 credits'.")


class FanTaskOut(BaseModel):
    id: int
    kind: TaskKind
    title: str
    description: str
    target: int = Field(description="Friends to invite or days in a row; 1 for other kinds.")
    progress: int | None = Field(description="Friends invited / streak days so far.")
    status: str = Field(description="available, pending, completed or rejected.")
    reward: RewardOut
    chat_title: str | None = None
    action_url: str | None = Field(
        default=None, description="Where to act: the channel's link or the fan's invite link."
    )


class LevelOut(BaseModel):
    number: int
    name: str
    xp: int
    floor: int = Field(description="XP where this level starts.")
    next_at: int | None = Field(description="XP where the next level starts; null at the top.")

    @classmethod
    def of(cls, level: Level) -> LevelOut:
        return cls(
            number=level.number,
            name=level.name,
            xp=level.xp,
            floor=level.floor,
            next_at=level.next_at,
        )


class TasksOut(BaseModel):
    xp: int
    level: LevelOut
    tasks: list[FanTaskOut]


class ClaimIn(BaseModel):
    proof: str | None = Field(
        default=None, max_length=2000, description="For custom tasks: what the creator checks."
    )


class ClaimOut(BaseModel):
    outcome: Outcome
    message: str = Field(description="What happened, in the fan's language.")
    task: FanTaskOut
    level: LevelOut


class OpenOut(BaseModel):
    streak: int = Field(description="UTC days in a row the fan opened the Mini App.")
