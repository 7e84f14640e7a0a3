"""VIP through the emulator with a controllable clock: subscribe with a Stars subscription link,
get a one-person invite to the private channel, renew (once per charge), cancel (access stays),
be reminded, expire (access goes, and the fan leaves the channel where the bot is an admin)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.db import utcnow
from core.models import Payment, VipSubscription
from devtools.telegram.client import EmulatorError
from jobs.content_tasks import expire_vip
from tests.bot.conftest import Platform, wait_until
from tests.bot.content.helpers import api, creator, run_worker, sign_in
from tests.bot.payments.helpers import payment_update


def _ctx(platform: Platform) -> dict[str, Any]:
    return {
        "settings": platform.settings,
        "session_factory": platform.session_factory,
        "redis": platform.runtime.redis,
    }


async def _subscription(platform: Platform) -> VipSubscription:
    async with platform.session_factory() as session:
        return (await session.execute(select(VipSubscription))).scalar_one()


def _close(a: Any, b: Any) -> bool:
    return abs(a - b) < timedelta(minutes=2)


async def test_subscribe_renew_cancel_remind_expire(platform: Platform) -> None:
    studio = await creator(platform)
    bot, em = studio.bot, platform.emulator
    room = await em.create_group("Gold room", owner=studio.owner, bots=[bot], admins=[bot])
    gold = await api(
        platform,
        "POST",
        "/api/v1/creator/vip/packages",
        studio.token,
        expect=201,
        json={
            "name": "Gold",
            "price_stars": 300,
            "perks": ["Weekly live", "Raw files"],
            "channel_chat_id": room.id,
        },
    )
    assert gold["channel_status"] == "admin"
    post = await api(
        platform,
        "POST",
        "/api/v1/creator/content/posts",
        studio.token,
        expect=201,
        json={
            "text": "members only",
            "access": "vip",
            "package_ids": [gold["id"]],
            "publish": True,
        },
    )
    alice = await platform.user("Alice")
    await em.start(bot, alice)
    token = await sign_in(platform, bot, alice)
    assert (await api(platform, "GET", f"/api/v1/feed/{post['id']}", token))["locked"] is True

    await em.send_command(bot, alice, "vip")
    menu = (await platform.settled(bot, alice))[-1]
    assert menu.text == (
        "VIP membership of Art Studio:\n\n⭐ Gold – 300 ⭐ / 30 days\n• Weekly live\n• Raw files"
    )
    assert [b["text"] for b in menu.buttons] == ["Join Gold – 300 ⭐"]
    await em.press_button(bot, alice, menu.message_id, menu.buttons[0]["callback_data"])
    prompt = (await platform.replies(bot, alice, 3))[-1]
    assert prompt.text == "Gold for 30 days: 300 ⭐, renewed automatically. Tap to pay:"
    paid = await em.pay_invoice(bot, alice, invoice_link=prompt.buttons[0]["url"])
    assert paid.status == "paid" and paid.telegram_payment_charge_id
    entries = await platform.replies(bot, alice, 5)
    start = utcnow()
    welcome, invite = entries[-2], entries[-1]
    end = (start + timedelta(days=30)).strftime("%Y-%m-%d")
    assert welcome.text == (
        f"Welcome to Gold! Your VIP access runs until {end} and renews automatically."
    )
    assert invite.text == "Here is your invite to the private channel of Gold. It works once:"
    link = invite.buttons[0]["url"]
    assert alice.id in (await em.join_by_invite_link(alice, link))["members"]
    mallory = await platform.user("Mallory")
    try:
        await em.join_by_invite_link(mallory, link)
        raise AssertionError("a forwarded one-person link admitted a second person")
    except EmulatorError as exc:
        assert "USERS_TOO_MUCH" in exc.message
    assert (await api(platform, "GET", f"/api/v1/feed/{post['id']}", token))["locked"] is False
    sub = await _subscription(platform)
    assert sub.status == "active" and _close(sub.period_end, start + timedelta(days=30))

    # Telegram renews: 30 more days, once — a duplicate of the renewal's update changes nothing.
    renewal = await em.renew_subscription(bot, paid.telegram_payment_charge_id)
    assert renewal.status == "paid" and renewal.telegram_payment_charge_id
    renewed = (await platform.replies(bot, alice, 6))[-1]
    sixty = (start + timedelta(days=60)).strftime("%Y-%m-%d")
    assert renewed.text == f"Your Gold membership was renewed until {sixty}. Thank you!"
    async with platform.session_factory() as session:
        from core.models import Order
        from tenants.payments import payload_of

        payload = payload_of((await session.execute(select(Order))).scalar_one())
    duplicate = payment_update(
        90_001,
        alice,
        payload=payload,
        stars=300,
        charge_id=renewal.telegram_payment_charge_id,
        is_recurring=True,
    )
    await asyncio.gather(
        *(
            platform.post_update(
                bot.id, {**duplicate, "update_id": 90_001 + n}, secret=platform.secrets[bot.id]
            )
            for n in range(5)
        )
    )
    sub = await _subscription(platform)
    assert _close(sub.period_end, start + timedelta(days=60))
    assert sub.last_charge_id == renewal.telegram_payment_charge_id
    assert sub.subscription_charge_id == paid.telegram_payment_charge_id

    # She cancels in /vip: Telegram stops renewing, access stays until the period ends.
    await em.send_command(bot, alice, "vip")
    menu = (await platform.settled(bot, alice))[-1]
    assert f"Your membership is active until {sixty} and renews automatically." in (menu.text or "")
    assert [b["text"] for b in menu.buttons] == ["Cancel renewal of Gold"]
    answer = await em.press_button(bot, alice, menu.message_id, menu.buttons[0]["callback_data"])
    assert answer.text == f"Renewal of Gold is cancelled. Your VIP access lasts until {sixty}."
    assert (await em.renew_subscription(bot, paid.telegram_payment_charge_id)).status == "canceled"
    subscribers = await api(platform, "GET", "/api/v1/creator/vip/subscribers", studio.token)
    assert [(s["telegram_id"], s["status"]) for s in subscribers["items"]] == [
        (alice.id, "cancelled")
    ]
    assert (await api(platform, "GET", f"/api/v1/feed/{post['id']}", token))["locked"] is False

    # The clock moves: a reminder three days before the end (once), then expiry.
    ctx = _ctx(platform)
    soon = (start + timedelta(days=58)).timestamp()
    assert await expire_vip(ctx, soon) == {"reminders": 1, "expired": 0, "sent": 1, "removed": 0}
    assert (await expire_vip(ctx, soon))["reminders"] == 0
    later = (start + timedelta(days=61)).timestamp()
    assert await expire_vip(ctx, later) == {"reminders": 0, "expired": 1, "sent": 1, "removed": 1}
    texts = [e.text for e in await em.transcript(bot, alice, from_bot_only=True)][-2:]
    assert texts == [
        f"Your Gold membership ends on {sixty}. Send /vip to join again.",
        "Your Gold membership has ended. Send /vip to join again.",
    ]
    group = await em.group(room.id)
    assert alice.id not in group["members"] and alice.id not in group["banned"]
    assert (await api(platform, "GET", f"/api/v1/feed/{post['id']}", token))["locked"] is True
    assert (await expire_vip(ctx, later))["expired"] == 0
    async with platform.session_factory() as session:
        charges = (await session.execute(select(Payment.kind, Payment.stars))).all()
    assert [tuple(c) for c in charges] == [("vip", 300), ("vip", 300)]


async def test_channel_where_the_bot_is_not_admin(platform: Platform) -> None:
    studio = await creator(platform)
    bot, em = studio.bot, platform.emulator
    room = await em.create_group("Silver room", owner=studio.owner, bots=[bot])
    silver = await api(
        platform,
        "POST",
        "/api/v1/creator/vip/packages",
        studio.token,
        expect=201,
        json={"name": "Silver", "price_stars": 100, "channel_chat_id": room.id},
    )
    assert silver["channel_status"] == "not_admin"
    bob = await platform.user("Bob", "tr")
    await em.start(bot, bob)
    token = await sign_in(platform, bot, bob)
    link = (await api(platform, "POST", f"/api/v1/vip/packages/{silver['id']}/invoice", token))[
        "invoice_link"
    ]
    paid = await em.pay_invoice(bot, bob, invoice_link=link)
    assert paid.status == "paid"
    entries = await platform.replies(bot, bob, 3)
    assert entries[-1].text == "Silver özel kanalı henüz hazır değil; yaratıcı seni ekleyecek."
    again = await api(
        platform, "POST", f"/api/v1/vip/packages/{silver['id']}/invoice", token, expect=409
    )
    assert again["error"]["code"] == "already_subscribed"
    vip = await api(platform, "GET", "/api/v1/vip", token)
    sub = vip["packages"][0]["subscription"]
    assert (sub["status"], sub["renews"], sub["is_open"]) == ("active", True, True)

    cancelled = await api(platform, "POST", f"/api/v1/vip/subscriptions/{sub['id']}/cancel", token)
    assert (cancelled["status"], cancelled["renews"], cancelled["is_open"]) == (
        "cancelled",
        False,
        True,
    )
    twice = await api(
        platform, "POST", f"/api/v1/vip/subscriptions/{sub['id']}/cancel", token, expect=409
    )
    assert twice["error"]["code"] == "not_cancellable"

    # Expiry where the bot cannot remove anyone: access ends, nothing breaks, no retry loop.
    later = (utcnow() + timedelta(days=31)).timestamp()
    result = await expire_vip(_ctx(platform), later)
    assert (result["expired"], result["removed"], result.get("not_admin")) == (1, 0, 1)
    assert (await expire_vip(_ctx(platform), later)).get("not_admin") is None
    refreshed = await api(platform, "GET", "/api/v1/vip", token)
    assert refreshed["packages"][0]["subscription"]["status"] == "expired"
    await wait_until(
        lambda: em.transcript(bot, bob, from_bot_only=True),
        lambda items: (items[-1].text or "").startswith("Silver üyeliğin sona erdi"),
    )


async def test_locked_buttons_in_chat(platform: Platform) -> None:
    studio = await creator(platform)
    bot, em = studio.bot, platform.emulator
    gold = await api(
        platform,
        "POST",
        "/api/v1/creator/vip/packages",
        studio.token,
        expect=201,
        json={"name": "Gold", "price_stars": 300, "description": "All access"},
    )
    await api(
        platform,
        "POST",
        "/api/v1/creator/vip/packages",
        studio.token,
        expect=201,
        json={"name": "Bronze", "price_stars": 50},
    )
    quest = await api(
        platform,
        "POST",
        "/api/v1/creator/tasks",
        studio.token,
        expect=201,
        json={"kind": "custom", "title": "Say hi", "reward_xp": 5},
    )
    for body in (
        {"text": "members", "teaser": "Gold only", "access": "vip", "package_ids": [gold["id"]]},
        {"text": "quest", "access": "task", "unlock_task_id": quest["id"]},
    ):
        await api(
            platform,
            "POST",
            "/api/v1/creator/content/posts",
            studio.token,
            expect=201,
            json={**body, "publish": True},
        )
    dan = await platform.user("Dan")
    await em.start(bot, dan)
    await em.send_command(bot, dan, "feed")
    await platform.settled(bot, dan)
    await run_worker(platform)
    entries = await em.transcript(bot, dan, from_bot_only=True)
    vip_card, task_card = entries[-2], entries[-1]
    assert vip_card.text == "Gold only\n\n🔒 This post is for VIP members."
    assert task_card.text == "🔒 Complete a task to unlock this post."
    hint = await em.press_button(
        bot, dan, task_card.message_id, task_card.buttons[0]["callback_data"]
    )
    assert hint.show_alert and (hint.text or "").startswith("Complete the creator's task")
    await em.press_button(bot, dan, vip_card.message_id, vip_card.buttons[0]["callback_data"])
    menu = (await platform.replies(bot, dan, len(entries) + 1))[-1]
    assert menu.text == (
        "This post opens with any of these VIP packages:\n\n⭐ Gold – 300 ⭐ / 30 days\nAll access"
    )
    assert [b["text"] for b in menu.buttons] == ["Join Gold – 300 ⭐"]  # not Bronze
