"""Roles in the browser: the bot's owner gets the creator panel tab, a fan does not (their
``/creator/me`` is 403); the owner adds the fan as a co-admin, and after a reload the fan has
the panel too."""

from __future__ import annotations

from typing import Any

from tests.webapp.conftest import BROWSER, OpenApp

pytestmark = BROWSER


async def x_of(locator: Any) -> float:
    box = await locator.bounding_box()
    assert box is not None
    return float(box["x"])


ASKED_ROLE = """() => performance.getEntriesByType('resource')
  .some((entry) => entry.name.includes('/api/v1/creator/me') && entry.responseEnd > 0)"""


async def role_answered(page: Any) -> None:
    """Wait until the page has its answer to ``/creator/me`` and React has drawn it."""
    await page.wait_for_function(ASKED_ROLE)
    await page.wait_for_timeout(300)


async def test_owner_has_the_panel_and_makes_a_fan_co_admin(open_app: OpenApp) -> None:
    owner = await open_app(owner=True)
    page = owner.page
    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("panel-sections").wait_for()
    assert await page.get_by_test_id("panel-sections").locator("a").count() == 12
    await owner.screenshot("creator-panel")

    fan = await open_app(bot_of=owner.fan)
    await fan.page.get_by_test_id("tab-feed").wait_for()
    await role_answered(fan.page)
    assert await fan.page.get_by_test_id("tab-creator").count() == 0

    await page.get_by_test_id("section-admins").click()
    admins = page.get_by_test_id("admins")
    await admins.get_by_test_id("admin").filter(has_text="Owner").wait_for()
    await admins.locator("input[name=telegram_id]").fill(str(fan.fan.user.id))
    await page.get_by_test_id("add-admin").click()
    await admins.get_by_test_id("admin").filter(has_text="Co-admin").wait_for()
    assert await admins.get_by_test_id("admin").count() == 2
    await owner.screenshot("creator-admins")

    await fan.page.reload()
    await fan.page.get_by_test_id("tab-creator").click()
    await fan.page.get_by_test_id("panel-sections").wait_for()
    await fan.page.get_by_test_id("section-admins").click()
    # a co-admin sees the list but only the owner manages it
    await fan.page.get_by_test_id("admin").nth(1).wait_for()
    assert await fan.page.get_by_test_id("add-admin").count() == 0
    assert await fan.page.get_by_test_id("remove-admin").count() == 0

    # Right to left: the panel's tab (the last) is now the leftmost.
    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("language").select_option("ar")
    await page.get_by_test_id("tab-creator").filter(has_text="اللوحة").wait_for()
    panel, drive = page.get_by_test_id("tab-creator"), page.get_by_test_id("tab-drive")
    assert await x_of(panel) < await x_of(drive)
    await page.get_by_test_id("panel-sections").get_by_text("الإحصاءات").wait_for()
    await owner.screenshot("creator-panel-ar")
    assert not owner.errors and not fan.errors, (owner.errors, fan.errors)
