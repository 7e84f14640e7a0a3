"""A broadcast from the creator panel in the browser: compose with a button, see the audience
count, preview it in your own chat, send it, and watch the live progress bar (SSE fed by the
real worker) reach 100 %; every fan gets the message once."""

from __future__ import annotations

from tests.bot.conftest import wait_until
from tests.webapp.conftest import BROWSER, OpenApp, join

pytestmark = BROWSER

AUDIENCE = 6
RECORD_PROGRESS = """() => {
  window.__seen = [];
  new MutationObserver(() => {
    const bar = document.querySelector('[data-testid=broadcast-bar]');
    if (bar) window.__seen.push(Number(bar.getAttribute('aria-valuenow')));
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


async def test_compose_preview_send_and_watch_it_finish(open_app: OpenApp) -> None:
    creator = await open_app(owner=True)
    platform, owner = creator.platform, creator.fan
    fans = [await platform.user(f"Fan{i}") for i in range(AUDIENCE - 1)]
    for user in fans:
        await join(platform, owner.bot, owner.tenant_id, user, credits=0)
    page = creator.page
    page.on("dialog", lambda dialog: dialog.accept())

    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("section-broadcasts").click()
    await page.get_by_test_id("main-button").filter(has_text="New broadcast").click()
    compose = page.get_by_test_id("compose")
    await compose.get_by_test_id("broadcast-text").fill("<b>New drop</b> tonight at nine!")
    await compose.get_by_role("button", name="Add a button").click()
    await compose.get_by_placeholder("Button text").fill("See it")
    await compose.get_by_placeholder("https://").fill("https://example.org/drop")
    await (
        compose.get_by_test_id("audience-count")
        .filter(has_text=f"Reaches {AUDIENCE} fans")
        .wait_for()
    )
    await creator.screenshot("creator-broadcast-compose")
    await compose.get_by_test_id("save-broadcast").click()

    detail = page.get_by_test_id("broadcast")
    await detail.get_by_text("New drop").wait_for()
    await detail.get_by_test_id("preview-self").click()
    await wait_until(
        lambda: platform.emulator.transcript(owner.bot, owner.user, from_bot_only=True),
        lambda entries: any("New drop" in (e.text or "") for e in entries),
    )

    await page.evaluate(RECORD_PROGRESS)
    await detail.get_by_test_id("send").click()
    progress = page.locator("[data-testid=broadcast-progress][data-status=completed]")
    await progress.wait_for(timeout=30_000)
    bar = progress.get_by_test_id("broadcast-bar")
    assert await bar.get_attribute("aria-valuenow") == "100"
    await progress.get_by_text(f"{AUDIENCE} / {AUDIENCE}").wait_for()
    seen = await page.evaluate("window.__seen")
    assert seen and seen[-1] == 100 and seen == sorted(seen), seen
    await creator.screenshot("creator-broadcast-sent")

    for user in fans:
        got = await platform.emulator.transcript(owner.bot, user, from_bot_only=True)
        assert sum("New drop" in (e.text or "") for e in got) == 1, got
    assert not creator.errors, creator.errors
