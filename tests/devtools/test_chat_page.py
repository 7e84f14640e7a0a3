"""The chat page in headless Chromium: type a message, a real aiogram bot answers, it shows up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
    ReplyKeyboardMarkup,
    WebAppInfo,
)
from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.devtools.conftest import Emu, png_bytes
from tests.devtools.test_conversation import serve

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


MINI_APP = """<!doctype html><meta charset="utf-8"><body style="font-family:sans-serif">
<h3 id="out">checking…</h3><script>
const data = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData") || "";
fetch("check", {method: "POST", body: data}).then(r => r.text())
  .then(t => { document.getElementById("out").textContent = t; });
</script>"""


def mini_app(token: str) -> web.Application:
    """A Mini App page that sends its initData to its backend, which checks it like ours will."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=MINI_APP, content_type="text/html")

    async def check(request: web.Request) -> web.Response:
        try:
            parsed = safe_parse_webapp_init_data(token, await request.text())
        except ValueError:
            return web.Response(text="initData INVALID")
        assert parsed.user is not None
        return web.Response(text=f"initData valid for {parsed.user.first_name}")

    app = web.Application()
    app.router.add_get("/app", page)
    app.router.add_post("/check", check)
    return app


def demo_dispatcher(config: dict[str, str]) -> Dispatcher:
    dp = Dispatcher()

    @dp.message(F.text == "/start")
    async def start(message: Message) -> None:
        await message.answer(
            "Welcome to the <b>Atelier</b> demo! Try the buttons.",
            parse_mode="HTML",
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text="🎨 Generate"), KeyboardButton(text="💳 Balance")]],
                resize_keyboard=True,
            ),
        )

    @dp.message(F.text)
    async def echo(message: Message, bot: Bot) -> None:
        await bot.send_chat_action(message.chat.id, "typing")
        await message.answer(
            f"You said: <i>{message.text}</i>",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text="👍 Like", callback_data="like")],
                    [
                        InlineKeyboardButton(
                            text="Open app", web_app=WebAppInfo(url=config["app_url"])
                        )
                    ],
                ]
            ),
        )
        if message.text == "hello":
            await message.answer("مرحبا بك في أتيليه! هذا نص عربي.")
            await message.answer_photo(
                BufferedInputFile(png_bytes(320, 180, "teal"), "art.png"), caption="Your artwork"
            )
            await message.answer_invoice(
                title="100 credits",
                description="Credits for image generation",
                payload="credits:100",
                currency="XTR",
                prices=[LabeledPrice(label="Credits", amount=100)],
            )

    @dp.callback_query(F.data == "like")
    async def like(callback: CallbackQuery) -> None:
        await callback.answer("Thanks for the like!")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("You said it, and liked it ❤")

    @dp.pre_checkout_query()
    async def checkout(query: PreCheckoutQuery) -> None:
        await query.answer(ok=True)

    @dp.message(F.successful_payment)
    async def paid(message: Message) -> None:
        await message.answer("Payment received — 100 credits added.")

    return dp


@pytest.fixture
async def page_bot(emu: Emu) -> AsyncIterator[dict[str, Any]]:
    info = await emu.client.create_bot("atelier_demo_bot", "Atelier Demo")
    user = await emu.client.create_user("Maya", username="maya")
    bot = emu.bot(info.token)
    config: dict[str, str] = {}
    app = web.Application()
    SimpleRequestHandler(demo_dispatcher(config), bot).register(app, path="/hook")
    async with serve(app) as url, serve(mini_app(info.token)) as app_url:
        config["app_url"] = f"{app_url}/app"
        await bot.set_webhook(f"{url}/hook")
        yield {"bot": info, "user": user, "app_url": config["app_url"]}
    await bot.session.close()


async def test_chat_page_round_trip(emu: Emu, page_bot: dict[str, Any]) -> None:
    from playwright.async_api import async_playwright

    info, user = page_bot["bot"], page_bot["user"]
    ARTIFACTS.mkdir(exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"  # screenshots are never committed
    if not ignore.exists():
        ignore.write_text("*\n")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(8000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{emu.base_url}/?bot={info.id}&user={user.id}")
            await page.get_by_role("button", name="START", exact=True).click()
            await page.get_by_text("Welcome to the Atelier demo!").wait_for(timeout=5000)
            await page.get_by_test_id("reply-keyboard").get_by_text("🎨 Generate").wait_for()

            await page.get_by_test_id("composer").fill("hello")
            await page.get_by_test_id("composer").press("Enter")
            reply = page.locator("[data-testid=bot-message]", has_text="You said: hello")
            await reply.wait_for(timeout=5000)
            assert await reply.locator("i").inner_text() == "hello"  # formatting rendered
            arabic = page.locator(".bubble", has_text="مرحبا")
            await arabic.wait_for(timeout=5000)
            direction = await arabic.locator(".text").evaluate(
                "el => getComputedStyle(el).direction"
            )
            assert direction == "rtl"
            await page.locator("img.media").wait_for(timeout=5000)
            pay_button = page.get_by_role("button", name="Pay ⭐ 100")
            await pay_button.wait_for(timeout=5000)

            await page.locator(".kb-btn", has_text="Open app").first.click()
            await page.wait_for_function(
                "document.getElementById('webapp-frame').src.includes('tgWebAppData')"
            )
            frame_src = await page.locator("#webapp-frame").get_attribute("src")
            assert frame_src and frame_src.startswith(page_bot["app_url"] + "#tgWebAppData=")
            frame = page.frame_locator("#webapp-frame")
            await frame.get_by_text("initData valid for Maya").wait_for()
            await page.screenshot(path=str(ARTIFACTS / "chat_page_mini_app.png"))
            await page.locator("#webapp-close").click()

            await reply.get_by_role("button", name="👍 Like").click()
            await page.get_by_text("Thanks for the like!").wait_for(timeout=5000)
            await page.get_by_text("You said it, and liked it ❤").wait_for(
                timeout=5000
            )  # edited in place

            await pay_button.click()
            await page.get_by_text("Payment received — 100 credits added.").wait_for(timeout=8000)
            assert (
                await page.locator("[data-testid=bot-message]", has_text="You said: hello").count()
                == 0
            )

            await page.wait_for_timeout(300)  # let the toast and images settle for the screenshot
            await page.screenshot(path=str(ARTIFACTS / "chat_page.png"))
            assert not errors, errors
        finally:
            await browser.close()
    transcript = await emu.client.transcript(info, user)
    assert any(e.text == "hello" and not e.from_bot for e in transcript)
