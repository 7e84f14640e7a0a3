"""Languages in the browser: the fan's Telegram language is used at once, and switching to
Arabic turns the document right-to-left with the layout mirrored (logical CSS properties)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

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


DARK = {
    "bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#232e3c",
}


def with_theme(url: str, theme: dict[str, str]) -> str:
    base, _, fragment = url.partition("#")
    params = dict(parse_qsl(fragment))
    params["tgWebAppThemeParams"] = json.dumps(theme)
    return f"{base}#{urlencode(params, quote_via=quote)}"


async def test_telegram_theme_colours_light_and_dark(open_app: OpenApp) -> None:
    app = await open_app()
    page = app.page
    await page.get_by_test_id("empty").wait_for()
    css = "(name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim()"
    assert await page.evaluate(css, "--tg-theme-button-color") == "#3390ec"  # the emulator's
    assert await page.evaluate("document.documentElement.dataset.scheme") == "light"

    await page.goto("about:blank")  # a new launch, not a change of the fragment
    await page.goto(with_theme(app.url, DARK))
    await page.get_by_test_id("empty").wait_for()
    assert await page.evaluate(css, "--tg-theme-bg-color") == "#17212b"
    assert await page.evaluate("document.documentElement.dataset.scheme") == "dark"
    background = await page.locator(".topbar").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert background == "rgb(23, 33, 43)"
    await app.screenshot("drive-dark")
    assert not app.errors, app.errors
