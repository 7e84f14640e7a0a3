"""The creator's Groups screen in the browser: a group the emulator added the bot to is listed
with its type and the bot's status, the usage bar counts it, a VIP channel the bot cannot
manage shows a warning, the VIP form offers the bot's chats, leaving works, and Arabic reads
right to left."""

from __future__ import annotations

from core.db import session_scope
from core.models import VipPackage
from tests.bot.conftest import wait_until
from tests.webapp.conftest import BROWSER, OpenApp

pytestmark = BROWSER


async def test_groups_screen_lists_the_bots_groups(open_app: OpenApp) -> None:
    owner = await open_app(owner=True)
    page, platform, fan = owner.page, owner.platform, owner.fan
    emulator = platform.emulator
    club = await emulator.create_group("Art club", owner=fan.user, bots=[fan.bot])
    channel = await emulator.create_group(
        "VIP lounge", owner=fan.user, bots=[fan.bot], channel=True, username="viplounge"
    )
    async with session_scope(platform.session_factory) as session:
        session.add(
            VipPackage(
                tenant_id=fan.tenant_id, name="Gold", price_stars=50, channel_chat_id=channel.id
            )
        )
    await wait_until(
        lambda: emulator.bot_details(fan.bot),
        lambda details: details["pending_update_count"] == 0,
    )

    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("section-groups").click()
    groups = page.get_by_test_id("groups")
    club_row = groups.get_by_test_id("group").filter(has_text="Art club")
    await club_row.wait_for()
    assert "Supergroup" in await club_row.inner_text()
    assert await club_row.get_by_test_id("group-status").inner_text() == "Member"
    assert "2 / 5" in await page.get_by_test_id("groups-usage").inner_text()
    lounge = groups.get_by_test_id("group").filter(has_text="VIP lounge")
    warning = await lounge.get_by_test_id("group-warning").inner_text()
    assert "VIP package" in warning and "administrator status" in warning
    await owner.screenshot("creator-groups")

    # The VIP form offers the bot's chats; picking one fills the id field.
    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("section-vip").click()
    await page.get_by_test_id("main-button").filter(has_text="New package").click()
    form = page.get_by_test_id("package-form")
    await form.get_by_test_id("package-channel-pick").select_option(str(channel.id))
    assert await form.locator("input[type=number]").nth(1).input_value() == str(channel.id)
    await form.get_by_role("button", name="Close").click()
    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("section-groups").click()

    page.on("dialog", lambda dialog: dialog.accept())
    await club_row.get_by_test_id("group-leave").click()
    await club_row.get_by_test_id("group-status").filter(has_text="Left").wait_for()
    assert fan.bot.id not in (await emulator.group(club.id))["bots"]
    assert "1 / 5" in await page.get_by_test_id("groups-usage").inner_text()

    await page.get_by_test_id("language").select_option("ar")
    await groups.get_by_test_id("group").filter(has_text="قناة").wait_for()
    direction = await page.evaluate("document.documentElement.dir")
    assert direction == "rtl"
    await owner.screenshot("creator-groups-ar")
    assert not owner.errors, owner.errors
