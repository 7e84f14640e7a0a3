"""Referrals: attributed once, rewarded once through the ledger, the referrer notified."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.referrals.service import decode_code, referral_code
from core import ledger
from core.models import LedgerEntry, Referral, User
from tests.bot.conftest import Platform
from tests.bot.test_routing import message_update


def test_codes_round_trip() -> None:
    for user_id in (1, 35, 36, 46, 10**12):
        assert decode_code(referral_code(user_id)) == user_id
    assert decode_code("") is None
    assert decode_code("not-base36!") is None


async def _user(platform: Platform, tenant_id: int, telegram_id: int) -> User:
    async with platform.session_factory() as session:
        return (
            await session.execute(
                select(User).where(User.tenant_id == tenant_id, User.telegram_id == telegram_id)
            )
        ).scalar_one()


async def test_referral_rewarded_exactly_once(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio", config={"referral_reward": 15})
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    await platform.emulator.send_command(bot, alice, "invite")
    invite = (await platform.replies(bot, alice, 2))[-1].text or ""
    link = invite.splitlines()[-1]
    assert "15 credits" in invite and link.startswith(f"https://t.me/{bot.username}?start=ref_")
    payload = link.split("start=", 1)[1]

    bob = await platform.user("Bob")
    secret = platform.secrets[bot.id]
    duplicated = message_update(9001, bob, f"/start {payload}")
    first, second = await asyncio.gather(
        platform.post_update(bot.id, duplicated, secret=secret),
        platform.post_update(bot.id, duplicated, secret=secret),
    )
    assert sorted([first.content == b"{}", second.content == b"{}"]) == [False, True]
    # the same fan again, a new update with the same payload, and through the emulator
    await platform.post_update(
        bot.id, message_update(9002, bob, f"/start {payload}"), secret=secret
    )
    await platform.emulator.start(bot, bob, payload)
    await platform.settled(bot, bob)

    alice_row = await _user(platform, tenant_id, alice.id)
    bob_row = await _user(platform, tenant_id, bob.id)
    assert bob_row.referrer_id == alice_row.id
    async with platform.session_factory() as session:
        balance = await ledger.user_balance(session, tenant_id, alice_row.id)
        entries = (await session.execute(select(func.count()).select_from(LedgerEntry))).scalar()
        referrals = (await session.execute(select(func.count()).select_from(Referral))).scalar()
    assert (balance.balance, entries, referrals) == (15, 1, 1)
    notes = [e.text for e in await platform.settled(bot, alice) if "joined" in (e.text or "")]
    assert notes == ["Bob joined through your link. You received 15 credits!"]


async def test_racing_first_contacts_and_self_referral(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    await platform.settled(bot, alice)
    alice_row = await _user(platform, tenant_id, alice.id)
    payload = f"ref_{referral_code(alice_row.id)}"
    secret = platform.secrets[bot.id]

    carol = await platform.user("Carol")
    await asyncio.gather(
        *(
            platform.post_update(
                bot.id, message_update(500 + i, carol, f"/start {payload}"), secret=secret
            )
            for i in range(4)
        )
    )
    await platform.emulator.start(bot, alice, payload)  # her own link: ignored
    await platform.settled(bot, alice)
    async with platform.session_factory() as session:
        balance = await ledger.user_balance(session, tenant_id, alice_row.id)
    assert balance.balance == 10  # the default reward, once
