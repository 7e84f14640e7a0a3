"""Tenant settings the creator edits in the panel: languages, the referral reward, the chat
history switch and credit packs. (The welcome text is the ``start.welcome`` text of
:mod:`tenants.texts`; tool prices are :func:`jobs.catalog.service.set_tenant_tool`.)

Every change here alters what the bot runtime caches per bot (the tenant's config, default
language, text overrides), so the edge that commits it bumps the bot's route version after
the commit (:func:`tenants.webhooks.bump_route_version`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.errors import ConflictError, NotFoundError, ValidationError
from core.models import CreditPack, Tenant
from tenants import payments
from tenants.chatlog.record import CONFIG_KEY as CHAT_HISTORY
from tenants.chatlog.record import recording
from tenants.texts import LANGUAGES

MAX_REFERRAL_REWARD = 100_000
DEFAULT_REFERRAL_REWARD = 10
MAX_PACKS = 20
MAX_PACK_STARS = 10_000
MAX_PACK_CREDITS = 10**9


def enabled_languages(tenant: Tenant) -> list[str]:
    """The languages the creator offers (``config["languages"]``; default: all four)."""
    raw = (tenant.config or {}).get("languages")
    if isinstance(raw, list):
        chosen = [code for code in LANGUAGES if code in raw]
        if chosen:
            return chosen
    return list(LANGUAGES)


def referral_reward(tenant: Tenant) -> int:
    try:
        return max(int((tenant.config or {}).get("referral_reward", DEFAULT_REFERRAL_REWARD)), 0)
    except (TypeError, ValueError):
        return DEFAULT_REFERRAL_REWARD


def chat_history(tenant: Tenant) -> bool:
    """Whether fans' messages with the bot are recorded (on unless turned off)."""
    return recording(tenant.config or {})


def update_settings(tenant: Tenant, changes: Mapping[str, Any]) -> None:
    """Apply ``default_language``, ``languages``, ``referral_reward`` and ``chat_history``
    (whichever are given); the default language must be one of the enabled ones."""
    config = dict(tenant.config or {})
    languages = enabled_languages(tenant)
    if "languages" in changes:
        languages = _languages(changes["languages"])
        config["languages"] = languages
    default = changes.get("default_language", tenant.default_language)
    if default not in languages:
        raise ValidationError(
            "the default language must be one of the enabled languages",
            field="default_language",
        )
    if "referral_reward" in changes:
        reward = changes["referral_reward"]
        if isinstance(reward, bool) or not isinstance(reward, int):
            raise ValidationError("the referral reward is a number of credits")
        if not 0 <= reward <= MAX_REFERRAL_REWARD:
            raise ValidationError(f"the referral reward is between 0 and {MAX_REFERRAL_REWARD}")
        config["referral_reward"] = reward
    if changes.get("chat_history") is not None:
        if not isinstance(changes["chat_history"], bool):
            raise ValidationError("the chat history is on or off", field="chat_history")
        config[CHAT_HISTORY] = changes["chat_history"]
    tenant.default_language = default
    tenant.config = config


def _languages(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise ValidationError("enable at least one language", field="languages")
    unknown = [code for code in raw if code not in LANGUAGES]
    if unknown:
        raise ValidationError(
            f"unsupported language {unknown[0]!r}; use {', '.join(LANGUAGES)}", field="languages"
        )
    return [code for code in LANGUAGES if code in raw]


# -- credit packs --------------------------------------------------------------------------------


async def all_packs(session: AsyncSession, tenant_id: int) -> Sequence[CreditPack]:
    """Every pack, retired ones too, cheapest first (the defaults appear on first use, as
    fans would see them)."""
    await payments.list_packs(session, tenant_id)
    statement = tenant_select(CreditPack, tenant_id).order_by(
        CreditPack.is_active.desc(), CreditPack.stars, CreditPack.position, CreditPack.id
    )
    return (await session.execute(statement)).scalars().all()


def _check_pack(stars: int, credits: int, bonus: int) -> None:
    if not 1 <= stars <= MAX_PACK_STARS:
        raise ValidationError(f"a pack costs 1 to {MAX_PACK_STARS} Stars", field="stars")
    if not 1 <= credits <= MAX_PACK_CREDITS:
        raise ValidationError("a pack gives at least one credit", field="credits")
    if not 0 <= bonus <= MAX_PACK_CREDITS:
        raise ValidationError("the bonus cannot be negative", field="bonus")


async def create_pack(
    session: AsyncSession,
    tenant_id: int,
    *,
    stars: int,
    credits: int,
    bonus: int = 0,
    position: int = 0,
    is_active: bool = True,
) -> CreditPack:
    _check_pack(stars, credits, bonus)
    packs = await all_packs(session, tenant_id)
    if sum(1 for p in packs if p.is_active) >= MAX_PACKS and is_active:
        raise ConflictError(f"a bot offers at most {MAX_PACKS} packs")
    pack = CreditPack(
        tenant_id=tenant_id,
        stars=stars,
        credits=credits,
        bonus=bonus,
        position=position,
        is_active=is_active,
    )
    session.add(pack)
    await session.flush()
    return pack


async def get_pack(session: AsyncSession, tenant_id: int, pack_id: int) -> CreditPack:
    pack = await session.scalar(
        tenant_select(CreditPack, tenant_id).where(CreditPack.id == pack_id)
    )
    if pack is None:
        raise NotFoundError("no such pack", pack_id=pack_id)
    return pack


async def update_pack(
    session: AsyncSession, tenant_id: int, pack_id: int, changes: Mapping[str, Any]
) -> CreditPack:
    """Edit a pack; orders already made keep the price and credits they were made with."""
    pack = await get_pack(session, tenant_id, pack_id)
    stars = changes.get("stars", pack.stars)
    credits = changes.get("credits", pack.credits)
    bonus = changes.get("bonus", pack.bonus)
    _check_pack(stars, credits, bonus)
    pack.stars, pack.credits, pack.bonus = stars, credits, bonus
    pack.position = changes.get("position", pack.position)
    pack.is_active = changes.get("is_active", pack.is_active)
    await session.flush()
    return pack


async def retire_pack(session: AsyncSession, tenant_id: int, pack_id: int) -> None:
    """Stop offering a pack. The row stays: past orders and payments point at it."""
    pack = await get_pack(session, tenant_id, pack_id)
    pack.is_active = False
    await session.flush()
