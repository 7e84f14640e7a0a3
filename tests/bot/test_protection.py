"""Throttling, fans who block the bot, and handler errors."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy import select, update

from core.errors import PermissionDeniedError
from core.models import TenantText, User
from tenants.users import send_to_user
from tests.bot.conftest import Platform, PlatformFactory


async def _blocked(platform: Platform, tenant_id: int, telegram_id: int) -> bool:
    async with platform.session_factory() as session:
        return (
            await session.execute(
                select(User.is_blocked).where(
                    User.tenant_id == tenant_id, User.telegram_id == telegram_id
                )
            )
        ).scalar_one()


async def test_a_flood_gets_one_notice_then_silence(platform: Platform) -> None:
    bot, _ = await platform.add_tenant(
        "Art Studio", config={"throttle": {"limit": 3, "window": 60}}
    )
    alice = await platform.user("Alice")
    for n in range(7):
        await platform.emulator.send_message(bot, alice, f"spam {n}")
    replies = [entry.text for entry in await platform.settled(bot, alice)]
    assert len(replies) == 4
    assert replies[3] == (
        "You are sending messages too fast. Please wait a few seconds and try again."
    )
    bob = await platform.user("Bob")  # another fan is not affected
    await platform.emulator.send_message(bot, bob, "hello")
    assert len(await platform.replies(bot, bob, 1)) == 1


async def test_blocked_fan_is_marked_then_reactivated(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    await platform.settled(bot, alice)

    await platform.emulator.block_bot(bot, alice)  # Telegram sends my_chat_member "kicked"
    await platform.settled(bot, alice)
    assert await _blocked(platform, tenant_id, alice.id)

    await platform.emulator.unblock_bot(bot, alice)
    await platform.emulator.send_command(bot, alice, "help")
    await platform.replies(bot, alice, 2)
    assert not await _blocked(platform, tenant_id, alice.id)


async def test_a_403_when_sending_marks_the_fan(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    await platform.settled(bot, alice)
    await platform.emulator.block_bot(bot, alice)
    await platform.settled(bot, alice)
    # as if the my_chat_member update had been lost: only the 403 can tell
    async with platform.session_factory() as session:
        await session.execute(update(User).values(is_blocked=False))
        await session.commit()

    route = await platform.runtime.routes.get(bot.id)
    assert route is not None
    delivered = await send_to_user(
        platform.runtime.bots.get(route),
        factory=platform.session_factory,
        redis=platform.runtime.redis,
        tenant_id=tenant_id,
        telegram_id=alice.id,
        text="news!",
    )
    assert not delivered
    assert await _blocked(platform, tenant_id, alice.id)


def _failing_router() -> Router:
    router = Router(name="probe")

    async def boom(message: Message) -> None:
        raise RuntimeError("database password is hunter2")

    async def denied(message: Message) -> None:
        raise PermissionDeniedError("creators only")

    router.message.register(boom, Command("boom"))
    router.message.register(denied, Command("denied"))
    return router


async def test_handler_errors_become_polite_replies(start_platform: PlatformFactory) -> None:
    async with start_platform(extra_routers=[_failing_router()]) as platform:
        bot, _ = await platform.add_tenant("Art Studio")
        alice = await platform.user("Alice")
        boris = await platform.user("Boris", language_code="ru")
        await platform.emulator.send_command(bot, alice, "boom")
        await platform.emulator.send_command(bot, alice, "denied")
        await platform.emulator.send_command(bot, alice, "help")
        await platform.emulator.send_command(bot, boris, "boom")
        replies = [e.text or "" for e in await platform.settled(bot, alice)]
        assert replies[0] == (
            "Sorry, something went wrong on our side. Please try again in a moment."
        )
        assert replies[1] == "Sorry, you are not allowed to do that."
        assert replies[2].startswith("Here is what I can do")
        russian = (await platform.settled(bot, boris))[0].text
        assert (
            russian
            == "Извините, у нас что-то пошло не так. Пожалуйста, попробуйте ещё раз чуть позже."
        )
        assert all("hunter2" not in reply for reply in replies)


async def test_a_broken_override_falls_back_to_the_default(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    async with platform.session_factory() as session:
        # stored before a rule change, say: it passed the checks of its time
        session.add(
            TenantText(
                tenant_id=tenant_id,
                key="balance.show",
                language="en",
                template="You have {{ 100 // balance }} hundredths",
            )
        )
        await session.commit()
    alice = await platform.user("Alice")
    await platform.emulator.send_command(bot, alice, "balance")
    assert (await platform.replies(bot, alice, 1))[0].text == "Your balance: 0 credits."
