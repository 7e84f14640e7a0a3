"""Referral rules: who brought whom, rewarded once.

Codes are the referrer's user id in base 36 (``ref_1a`` is user 46 *of this tenant*): short
enough for a deep link, and looked up only inside the tenant of the bot that received them.
Guessing a code gains nothing — it can only credit someone else, and only for a brand-new fan.

A fan is attributed only on the update that created them (the first contact with the bot is
``/start`` with the payload), never to themselves, and at most once: the referral row is
UNIQUE per referred fan and the ledger credit carries ``referral:{tenant}:{fan}`` as its
idempotency key, so retries, duplicates and repeated ``/start ref_x`` all end in one reward.
The amount is ``tenant.config["referral_reward"]`` (default 10; 0 turns rewards off).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.routing import TenantInfo
from core import ledger
from core.db import tenant_select
from core.models import Referral, User
from tenants.users import BotUser

logger = logging.getLogger(__name__)

DEFAULT_REWARD = 10
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def referral_code(user_id: int) -> str:
    if user_id <= 0:
        raise ValueError("user ids are positive")
    digits = []
    while user_id:
        user_id, remainder = divmod(user_id, 36)
        digits.append(_DIGITS[remainder])
    return "".join(reversed(digits))


def decode_code(code: str) -> int | None:
    if not code or len(code) > 12:
        return None
    try:
        value = int(code.lower(), 36)
    except ValueError:
        return None
    return value if value > 0 else None


def referral_link(bot_username: str, user_id: int) -> str:
    return f"https://t.me/{bot_username}?start=ref_{referral_code(user_id)}"


def reward_amount(tenant: TenantInfo) -> int:
    try:
        return max(int(tenant.config.get("referral_reward", DEFAULT_REWARD)), 0)
    except (TypeError, ValueError):
        return DEFAULT_REWARD


@dataclass(frozen=True, slots=True)
class ReferralReward:
    referrer_id: int
    referrer_telegram_id: int
    referrer_name: str
    referrer_language: str | None
    referrer_language_code: str | None
    reward: int


async def attribute_referral(
    session: AsyncSession, tenant: TenantInfo, user: BotUser, code: str
) -> ReferralReward | None:
    """Record that ``code``'s owner brought ``user`` and credit them; None when it does not
    count (not a new fan, own code, unknown code, already attributed)."""
    if not user.is_new:
        return None
    referrer_id = decode_code(code)
    if referrer_id is None or referrer_id == user.id:
        return None
    referrer = (
        await session.execute(tenant_select(User, tenant.id).where(User.id == referrer_id))
    ).scalar_one_or_none()
    if referrer is None:
        return None
    amount = reward_amount(tenant)
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    inserted = (
        await session.execute(
            insert(Referral)
            .values(
                tenant_id=tenant.id, referrer_id=referrer.id, referred_id=user.id, reward=amount
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "referred_id"])
            .returning(Referral.id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        return None
    await session.execute(
        update(User)
        .where(User.tenant_id == tenant.id, User.id == user.id, User.referrer_id.is_(None))
        .values(referrer_id=referrer.id)
    )
    if amount:
        account = await ledger.get_or_create_account(session, tenant.id, user_id=referrer.id)
        await ledger.credit(
            session,
            tenant.id,
            account.id,
            amount,
            idempotency_key=f"referral:{tenant.id}:{user.id}",
            reason="referral",
            meta={"referred_user_id": user.id},
        )
    logger.info(
        "referral attributed",
        extra={"tenant_id": tenant.id, "referrer_id": referrer.id, "user_id": user.id},
    )
    return ReferralReward(
        referrer_id=referrer.id,
        referrer_telegram_id=referrer.telegram_id,
        referrer_name=referrer.first_name,
        referrer_language=referrer.language,
        referrer_language_code=referrer.language_code,
        reward=amount,
    )
