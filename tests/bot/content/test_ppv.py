"""Pay-per-view through the emulator: ``/feed`` shows a locked post as a blurred preview with an
"Unlock" button, the Stars invoice is paid, the post arrives open; the Mini App's invoice link
works the same way; duplicates and races unlock once; a refund takes the unlock back."""

from __future__ import annotations

import asyncio
import io
import random

from PIL import Image
from sqlalchemy import func, select

from core.models import Payment, PostUnlock
from tests.bot.conftest import Platform, wait_until
from tests.bot.content.helpers import (
    Creator,
    api,
    creator,
    file_bytes,
    run_worker,
    sign_in,
    upload,
)
from tests.bot.payments.helpers import payment_update


def picture(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def _ppv_post(platform: Platform, studio: Creator, data: bytes, price: int = 25) -> int:
    file_id = await upload(platform, studio, "secret.png", data)
    post = await api(
        platform,
        "POST",
        "/api/v1/creator/content/posts",
        studio.token,
        expect=201,
        json={
            "text": "<b>The full set</b>",
            "teaser": "Studio session",
            "access": "ppv",
            "price_stars": price,
            "file_ids": [file_id],
            "publish": True,
        },
    )
    return int(post["id"])


async def _counts(platform: Platform) -> tuple[int, int]:
    async with platform.session_factory() as session:
        payments = await session.scalar(select(func.count()).select_from(Payment))
        unlocks = await session.scalar(
            select(func.count()).select_from(PostUnlock).where(PostUnlock.revoked_at.is_(None))
        )
    return int(payments or 0), int(unlocks or 0)


async def test_feed_buy_in_chat_and_receive_the_post(platform: Platform) -> None:
    studio = await creator(platform)
    bot = studio.bot
    original, free_picture = picture(1), picture(2, (64, 48))
    post_id = await _ppv_post(platform, studio, original)
    free_file = await upload(platform, studio, "free.png", free_picture)
    await api(
        platform,
        "POST",
        "/api/v1/creator/content/posts",
        studio.token,
        expect=201,
        json={"text": "Hello <i>everyone</i>", "file_ids": [free_file], "publish": True},
    )
    await run_worker(platform)  # the locked post's blurred preview

    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    await platform.emulator.send_command(bot, alice, "feed")
    header = (await platform.settled(bot, alice))[-1]
    assert header.text == "The latest posts of Art Studio:"
    await run_worker(platform)
    entries = await platform.emulator.transcript(bot, alice, from_bot_only=True)
    locked, free = entries[-2], entries[-1]  # oldest first: the PPV post came first
    assert locked.caption == "Studio session\n\n🔒 Unlock this post for 25 ⭐."
    assert [b["text"] for b in locked.buttons] == ["Unlock for 25 ⭐"]
    preview = await file_bytes(platform, locked)
    assert preview != original and Image.open(io.BytesIO(preview)).format == "JPEG"
    assert free.caption == "Hello everyone" and free.entities[0]["type"] == "italic"
    assert await file_bytes(platform, free) == free_picture

    await platform.emulator.press_button(
        bot, alice, locked.message_id, locked.buttons[0]["callback_data"]
    )
    invoice = await wait_until(
        lambda: platform.emulator.transcript(bot, alice, from_bot_only=True),
        lambda items: "invoice" in items[-1].message,
    )
    assert invoice[-1].message["invoice"]["total_amount"] == 25
    paid = await platform.emulator.pay_invoice(bot, alice)
    assert paid.status == "paid"
    receipt = (await platform.settled(bot, alice))[-1]
    assert receipt.text == "Unlocked! Thank you for 25 ⭐. Here is your post:"
    await run_worker(platform)
    opened = (await platform.emulator.transcript(bot, alice, from_bot_only=True))[-1]
    assert opened.caption == "The full set" and await file_bytes(platform, opened) == original

    # Telegram's file id is reused for the same bot: the free picture is not uploaded again.
    await platform.emulator.send_command(bot, alice, "feed")
    await platform.settled(bot, alice)
    await run_worker(platform)
    again = await platform.emulator.transcript(bot, alice, from_bot_only=True)
    assert again[-1].media and free.media
    assert again[-1].media["file_id"] == free.media["file_id"]
    assert again[-2].caption == "The full set"  # open for her now

    stats = await api(
        platform, "GET", f"/api/v1/creator/content/posts/{post_id}/stats", studio.token
    )
    assert (stats["revenue_stars"], stats["purchases"], stats["unlocks_by_source"]) == (
        25,
        1,
        {"ppv": 1},
    )
    async with platform.session_factory() as session:
        kinds = (await session.execute(select(Payment.kind, Payment.stars))).all()
    assert [tuple(k) for k in kinds] == [("ppv", 25)]

    # Her invoice again: its order is paid, so checkout refuses it and nothing is charged.
    repeat = await platform.emulator.pay_invoice(bot, alice, message_id=invoice[-1].message_id)
    assert repeat.status == "declined"
    assert await _counts(platform) == (1, 1)


async def test_mini_app_invoice_link_and_refund(platform: Platform) -> None:
    studio = await creator(platform)
    bot = studio.bot
    post_id = await _ppv_post(platform, studio, picture(3), price=40)
    bob = await platform.user("Bob", "ru")
    await platform.emulator.start(bot, bob)
    token = await sign_in(platform, bot, bob)

    link = (await api(platform, "POST", f"/api/v1/feed/{post_id}/invoice", token))["invoice_link"]
    second_link = (await api(platform, "POST", f"/api/v1/feed/{post_id}/invoice", token))[
        "invoice_link"
    ]
    assert (await api(platform, "GET", f"/api/v1/feed/{post_id}", token))["locked"] is True
    paid = await platform.emulator.pay_invoice(bot, bob, invoice_link=link)
    assert paid.status == "paid" and paid.telegram_payment_charge_id
    receipt = (await platform.settled(bot, bob))[-1]
    assert receipt.text == "Открыто! Спасибо за 40 ⭐. Вот ваш пост:"
    item = await api(platform, "GET", f"/api/v1/feed/{post_id}", token)
    assert item["locked"] is False and item["unlocked_via"] == "unlock"
    media_link = item["media"][0]["url"].removeprefix(platform.api_url)

    # The other order of the same post: pre-checkout refuses it, nothing is charged twice.
    refused = await platform.emulator.pay_invoice(bot, bob, invoice_link=second_link)
    assert refused.status == "declined"
    assert await _counts(platform) == (1, 1)
    conflict = await api(platform, "POST", f"/api/v1/feed/{post_id}/invoice", token, expect=409)
    assert conflict["error"]["code"] == "already_unlocked"

    # The owner refunds it: the unlock goes, links stop working, the post is for sale again.
    await platform.emulator.start(bot, studio.owner)
    await platform.emulator.send_command(
        bot, studio.owner, f"refund {paid.telegram_payment_charge_id}"
    )
    done = (await platform.settled(bot, studio.owner))[-1]
    assert done.text == "Refunded 40 ⭐; the fan's unlock of that post was taken back."
    assert await _counts(platform) == (1, 0)
    assert (await api(platform, "GET", media_link, expect=403))["error"]["code"] == (
        "content_locked"
    )
    assert (await api(platform, "GET", f"/api/v1/feed/{post_id}", token))["locked"] is True
    stats = await api(
        platform, "GET", f"/api/v1/creator/content/posts/{post_id}/stats", studio.token
    )
    assert (stats["revenue_stars"], stats["unlocks"]) == (0, 0)


async def test_duplicate_and_racing_payments_unlock_once(platform: Platform) -> None:
    studio = await creator(platform)
    bot = studio.bot
    post_id = await _ppv_post(platform, studio, picture(4))
    carol = await platform.user("Carol")
    await platform.emulator.start(bot, carol)
    token = await sign_in(platform, bot, carol)
    await api(platform, "POST", f"/api/v1/feed/{post_id}/invoice", token)
    await api(platform, "POST", f"/api/v1/feed/{post_id}/invoice", token)
    async with platform.session_factory() as session:
        from core.models import Order
        from tenants.payments import payload_of

        orders = (await session.execute(select(Order).order_by(Order.id))).scalars().all()
    first, second = (payload_of(order) for order in orders)

    secret = platform.secrets[bot.id]
    storm = [
        payment_update(70_000 + n, carol, payload=first, stars=25, charge_id="stxSame")
        for n in range(12)
    ]
    # Two different charges for two orders of the same post, racing the duplicates.
    storm.append(payment_update(70_100, carol, payload=second, stars=25, charge_id="stxOther"))
    responses = await asyncio.gather(
        *(platform.post_update(bot.id, update, secret=secret) for update in storm)
    )
    assert {r.status_code for r in responses} == {200}
    await wait_until(lambda: _counts(platform), lambda counts: counts == (2, 1))
    async with platform.session_factory() as session:
        unlock = (await session.execute(select(PostUnlock))).scalar_one()
    assert unlock.source == "ppv" and unlock.source_ref in ("stxSame", "stxOther")
    thanks = [r for r in responses if "Unlocked!" in r.text]
    assert len(thanks) == 2  # one receipt per charge, never one per duplicate update
