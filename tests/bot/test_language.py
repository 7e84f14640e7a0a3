"""Languages: the fan's choice persists (across restarts), Telegram's code is the fallback."""

from __future__ import annotations

import re

from tests.bot.conftest import Platform, PlatformFactory

ARABIC = re.compile(r"[\u0600-\u06FF]")


async def test_choice_persists_across_a_restart(start_platform: PlatformFactory) -> None:
    async with start_platform() as platform:
        bot, _ = await platform.add_tenant("Art Studio")
        alice = await platform.user("Alice", language_code="en")
        await platform.emulator.send_command(bot, alice, "language")
        prompt = (await platform.replies(bot, alice, 1))[-1]
        assert prompt.text == "Choose your language:"
        assert [b["callback_data"] for b in prompt.buttons] == [
            "lang:en",
            "lang:tr",
            "lang:ru",
            "lang:ar",
        ]
        answer = await platform.emulator.press_button(bot, alice, prompt.message_id, "lang:tr")
        assert answer.answered
        changed = await platform.replies(bot, alice, 2)
        assert changed[-1].text == "Tamam! Bundan sonra seninle Türkçe konuşacağım."
        await platform.emulator.send_command(bot, alice, "help")
        assert (await platform.replies(bot, alice, 3))[-1].text.startswith("Yapabileceklerim:")
        secret = platform.secrets[bot.id]

    async with start_platform() as platform:  # a new app, runtime and Dispatcher
        platform.secrets[bot.id] = secret
        await platform.runtime.routes.get(bot.id)
        # the emulator still posts to the old app's URL (a new port): re-point the bot
        from bot.runtime import resync_bots

        assert await resync_bots(platform.runtime, [bot.id]) == [(bot.id, None)]
        await platform.emulator.send_command(bot, alice, "balance")
        assert (await platform.replies(bot, alice, 4))[-1].text == "Bakiyen: 0 kredi."
        await platform.emulator.send_message(bot, alice, "merhaba")
        stray = (await platform.replies(bot, alice, 5))[-1].text or ""
        assert stray.startswith("Senin için resim, video")  # the assistant, offline (issue 6)


async def test_telegram_language_code_then_tenant_default(platform: Platform) -> None:
    bot, _ = await platform.add_tenant("Art Studio", default_language="tr")
    boris = await platform.user("Boris", language_code="ru")
    amira = await platform.user("Amira", language_code="ar")
    pedro = await platform.user("Pedro", language_code="pt-br")

    await platform.emulator.start(bot, boris)
    await platform.emulator.start(bot, amira)
    await platform.emulator.start(bot, pedro)
    assert (await platform.replies(bot, boris, 1))[0].text.startswith("Привет, Boris!")
    arabic = (await platform.replies(bot, amira, 1))[0]
    assert arabic.text.startswith("مرحبًا Amira!")
    assert ARABIC.search(arabic.buttons[0]["text"])  # the menu too
    assert (await platform.replies(bot, pedro, 1))[0].text.startswith("Merhaba Pedro!")

    await platform.emulator.send_command(bot, amira, "nonsense")
    unknown = (await platform.replies(bot, amira, 2))[-1].text or ""
    assert unknown == "لا أعرف الأمر /nonsense. أرسل /help لتعرف ما يمكنني فعله."


async def test_only_enabled_languages_are_spoken_and_offered(platform: Platform) -> None:
    """The creator enables English and Turkish: a Russian fan gets the tenant default, the
    keyboard offers two languages, and a choice disabled later falls back (issue 8)."""
    from core.models import Tenant
    from tenants.panel.settings import update_settings
    from tenants.webhooks import bump_route_version

    bot, tenant_id = await platform.add_tenant(
        "Art Studio", config={"languages": ["en", "tr"]}, default_language="en"
    )
    boris = await platform.user("Boris", language_code="ru")
    tuna = await platform.user("Tuna", language_code="tr")
    await platform.emulator.start(bot, boris)
    await platform.emulator.start(bot, tuna)
    assert (await platform.replies(bot, boris, 1))[0].text.startswith("Hi Boris!")
    assert (await platform.replies(bot, tuna, 1))[0].text.startswith("Merhaba Tuna!")

    await platform.emulator.send_command(bot, boris, "language")
    prompt = (await platform.replies(bot, boris, 2))[-1]
    assert [b["callback_data"] for b in prompt.buttons] == ["lang:en", "lang:tr"]
    await platform.emulator.press_button(bot, boris, prompt.message_id, "lang:tr")
    assert (await platform.replies(bot, boris, 3))[-1].text.startswith("Tamam!")

    async with platform.session_factory() as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        update_settings(tenant, {"languages": ["en"]})
        await session.commit()
    await bump_route_version(platform.runtime.redis, bot.id)

    await platform.emulator.send_command(bot, boris, "help")
    assert (await platform.replies(bot, boris, 4))[-1].text.startswith("Here is what I can do")
    await platform.emulator.send_command(bot, tuna, "help")
    assert (await platform.replies(bot, tuna, 2))[-1].text.startswith("Here is what I can do")
    # the old keyboard's Turkish button is refused quietly: no "changed" message
    answer = await platform.emulator.press_button(bot, boris, prompt.message_id, "lang:tr")
    assert answer.answered
    await platform.emulator.send_command(bot, boris, "language")
    again = (await platform.replies(bot, boris, 5))[-1]
    assert [b["callback_data"] for b in again.buttons] == ["lang:en"]
