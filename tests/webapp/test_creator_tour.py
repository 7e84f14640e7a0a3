"""The creator panel's other screens in the browser, against the real API: a join-a-channel
task refused with the "bot is not admin" warning, a custom task a fan claims with a proof and
the creator approves (the fan's XP bar moves), fans search and detail with the fan's messages
to the bot and its replies as chat bubbles, the texts editor with a
line-numbered sandbox error and a live preview, settings, the plan's usage bars, and a VIP
package the fan then sees. A screenshot of each screen."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from jobs.chatlog_tasks import drain_chatlog
from tests.webapp.conftest import BROWSER, OpenApp

pytestmark = BROWSER


async def test_tasks_fans_texts_settings_plan_and_vip(open_app: OpenApp) -> None:
    creator = await open_app(owner=True)
    fan = await open_app(bot_of=creator.fan)
    page = creator.page
    quiet = f"quiet{uuid.uuid4().hex[:8]}"
    await creator.platform.emulator.create_group(
        "Quiet News", owner=creator.fan.user, bots=[creator.fan.bot], channel=True, username=quiet
    )

    # Tasks: a channel where the bot is not an admin is refused, with the reason.
    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("section-tasks").click()
    await page.get_by_test_id("main-button").filter(has_text="New task").click()
    form = page.get_by_test_id("task-form")
    await form.locator("input[name=title]").fill("Join Quiet News")
    await form.get_by_test_id("task-chat").fill(f"@{quiet}")
    await form.get_by_test_id("check-chat").click()
    await form.get_by_test_id("not-admin").filter(has_text="administrator").wait_for()
    await creator.screenshot("creator-task-not-admin")
    await form.get_by_test_id("create-task").click()
    await form.get_by_test_id("not-admin").wait_for()
    await form.get_by_test_id("task-kind").select_option("custom")
    await form.locator("input[name=title]").fill("Share your fan art")
    await form.get_by_test_id("create-task").click()
    await page.get_by_test_id("task-row").filter(has_text="Share your fan art").wait_for()
    assert await page.get_by_test_id("task-row").count() == 1

    # The fan claims it with a proof; the creator approves; the fan's XP moves.
    fp = fan.page
    await fp.get_by_test_id("tab-feed").click()
    await fp.get_by_test_id("open-tasks").click()
    task = fp.get_by_test_id("task").filter(has_text="Share your fan art")
    await task.get_by_test_id("claim").click()
    await fp.locator("dialog input[name=value]").fill("https://example.org/my-art")
    await fp.locator("dialog button[type=submit]").click()
    await fp.locator("[data-testid=task][data-status=pending]").wait_for()
    await fan.screenshot("tasks")

    await page.reload()
    submission = page.get_by_test_id("submission").filter(has_text="my-art")
    await submission.wait_for()
    await creator.screenshot("creator-tasks")
    await submission.get_by_test_id("approve").click()
    await page.get_by_test_id("submissions").wait_for(state="detached")

    await fp.reload()
    await fp.locator("[data-testid=task][data-status=completed]").wait_for()
    await fp.get_by_test_id("level").filter(has_text="50 XP").wait_for()
    await fan.screenshot("tasks-done")

    # Fans: search and detail.
    await page.get_by_test_id("back").click()
    await page.get_by_test_id("section-users").click()
    await page.get_by_test_id("user-search").fill("Fred")
    await page.get_by_test_id("user-search").press("Enter")
    await page.get_by_test_id("user-row").filter(has_text="Fred").click()
    await page.get_by_test_id("user-detail").filter(has_text=str(fan.fan.user.id)).wait_for()
    await creator.screenshot("creator-user")
    # Their conversation with the bot, once the worker's drain has stored it.
    platform = creator.platform
    await platform.emulator.send_message(fan.fan.bot, fan.fan.user, "I love your art!")
    await platform.settled(fan.fan.bot, fan.fan.user)
    await platform.runtime.replies.flush()  # what the API holds for a quarter of a second
    await drain_chatlog(
        {"redis": platform.app.state.redis, "session_factory": platform.session_factory}
    )
    await page.get_by_test_id("tab-messages").click()
    messages = page.get_by_test_id("user-messages")
    await messages.get_by_test_id("message-in").filter(has_text="I love your art!").wait_for()
    await messages.get_by_test_id("message-in").filter(has_text="/start").wait_for()
    await messages.get_by_test_id("message-out").filter(has_text="Fred").first.wait_for()
    await creator.screenshot("creator-user-messages")
    for language, tab, fan_side in (("ar", "الرسائل", "right"), ("en", "Messages", "left")):
        await page.get_by_test_id("language").select_option(language)  # Arabic mirrors sides
        await page.get_by_test_id("tab-messages").filter(has_text=tab).click()
        await messages.get_by_test_id("message-in").first.wait_for()
        fan_box = await messages.get_by_test_id("message-in").first.bounding_box()
        bot_box = await messages.get_by_test_id("message-out").first.bounding_box()
        assert fan_box is not None and bot_box is not None
        fan_right = fan_box["x"] + fan_box["width"] > bot_box["x"] + bot_box["width"]
        assert ("right" if fan_right else "left") == fan_side, (language, fan_box, bot_box)
        if language == "ar":
            await creator.screenshot("creator-user-messages-ar")

    # Texts: a sandbox refusal is shown on its line; a valid draft previews live.
    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("section-texts").click()
    await page.locator("[data-testid=text-key][data-key='start.welcome']").click()
    editor = page.get_by_test_id("text-editor")
    template = editor.get_by_test_id("template")
    await template.fill("Hello there!\n{{ bot_name.__class__ }}")
    await editor.get_by_test_id("template-error").filter(has_text="Line 2").wait_for()
    assert await editor.get_by_test_id("bad-line").inner_text() == "2"
    await creator.screenshot("creator-texts-error")
    await template.fill("Welcome to {{ bot_name }}, friend!")
    await (
        editor.get_by_test_id("text-preview")
        .filter(has_text="Welcome to Art Studio, friend!")
        .wait_for()
    )
    await editor.get_by_test_id("save-text").click()
    await page.get_by_text("Saved").first.wait_for()
    await creator.screenshot("creator-texts")

    # Settings and plan.
    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("section-settings").click()
    await page.get_by_test_id("settings-general").wait_for()
    await page.get_by_test_id("tool-prices").locator("li").first.wait_for()
    await creator.screenshot("creator-settings")
    await page.get_by_test_id("tab-creator").click()
    await page.get_by_test_id("section-plan").click()
    await page.get_by_test_id("limit-storage").wait_for()
    await creator.screenshot("creator-plan")

    # Broadcasts list (empty) and the other panel screens draw.
    for section, name in (
        ("section-broadcasts", "creator-broadcasts"),
        ("section-vip", "creator-vip"),
    ):
        await page.get_by_test_id("tab-creator").click()
        await page.get_by_test_id(section).click()
        # A screen may show more than one loading state at once: wait for none at all.
        await expect(page.get_by_test_id("loading")).to_have_count(0)
        await creator.screenshot(name)
    assert not creator.errors and not fan.errors, (creator.errors, fan.errors)
