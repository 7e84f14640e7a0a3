"""Languages in the browser: the fan's Telegram language is used at once, and switching to
Arabic turns the document right-to-left with the layout mirrored (logical CSS properties)."""

from __future__ import annotations

from typing import Any

from tests.webapp.conftest import BROWSER, OpenApp

pytestmark = BROWSER


async def x_of(locator: Any) -> float:
    box = await locator.bounding_box()
    assert box is not None
    return float(box["x"])


async def test_russian_then_arabic_right_to_left(open_app: OpenApp) -> None:
    app = await open_app(language="ru")
    page = app.page
    await page.get_by_test_id("tab-drive").filter(has_text="Файлы").wait_for()
    await page.get_by_test_id("empty").filter(has_text="Папка пуста").wait_for()
    assert await page.evaluate("document.documentElement.dir") == "ltr"
    drive_tab, wallet_tab = page.get_by_test_id("tab-drive"), page.get_by_test_id("tab-wallet")
    assert await x_of(drive_tab) < await x_of(wallet_tab)

    await page.get_by_test_id("language").select_option("ar")
    await page.get_by_test_id("tab-drive").filter(has_text="الملفات").wait_for()
    html = await page.evaluate("[document.documentElement.dir, document.documentElement.lang]")
    assert html == ["rtl", "ar"]
    # Mirrored: the first tab is now on the right, the upload button right of "new folder".
    assert await x_of(drive_tab) > await x_of(wallet_tab)
    upload, new_folder = page.get_by_test_id("upload"), page.get_by_test_id("new-folder")
    assert await x_of(upload) > await x_of(new_folder)
    await app.screenshot("drive-ar")

    await page.get_by_test_id("tab-store").click()
    await page.get_by_test_id("tools").wait_for()
    await page.get_by_text("مؤثر صوتي").wait_for()  # tool names come in the fan's language too
    await app.screenshot("store-ar")

    await page.reload()  # the choice is kept; launch data comes back from the session
    await page.get_by_test_id("tab-store").filter(has_text="الأدوات").wait_for()
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    assert not app.errors, app.errors
