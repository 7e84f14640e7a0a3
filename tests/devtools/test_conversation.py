"""A whole conversation: the emulator pushes webhooks to a small aiogram app that answers back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot, Dispatcher, F
from aiogram.filters import CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from devtools.telegram.client import EmulatorClient, TranscriptEntry, UserInfo
from tests.devtools.conftest import Emu, png_bytes

SECRET = "webhook-secret_123"


async def wait_for(
    check: Callable[[], Awaitable[Any]], *, within: float = 5.0, interval: float = 0.02
) -> Any:
    """Poll ``check`` until it returns something truthy (and return that)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def shop_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        await message.answer(
            f"Welcome, <b>{message.from_user.first_name}</b>!",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Buy 25 ⭐", callback_data="buy")]]
            ),
        )

    @dp.callback_query(F.data == "buy")
    async def buy(callback: CallbackQuery, bot: Bot) -> None:
        await callback.answer("Here is your invoice")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("Invoice sent below")
        await bot.send_invoice(
            callback.from_user.id,
            title="Credits",
            description="25 credits",
            payload="credits:25",
            currency="XTR",
            prices=[LabeledPrice(label="Credits", amount=25)],
        )

    @dp.message(F.photo)
    async def photo(message: Message) -> None:
        assert message.photo
        await message.answer_photo(message.photo[-1].file_id, caption="Nice picture")

    @dp.pre_checkout_query()
    async def checkout(query: PreCheckoutQuery) -> None:
        await query.answer(ok=query.invoice_payload == "credits:25")

    @dp.message(F.successful_payment)
    async def paid(message: Message) -> None:
        assert message.successful_payment is not None
        await message.answer(f"Paid {message.successful_payment.total_amount} ⭐, thank you!")

    return dp


async def bot_texts(client: EmulatorClient, bot_id: int, user: UserInfo) -> list[TranscriptEntry]:
    return await client.transcript(bot_id, user, from_bot_only=True)


async def test_conversation_over_webhook(emu: Emu, client: EmulatorClient) -> None:
    info = await client.create_bot("shop_bot", "Shop")
    user = await client.create_user("Buyer")
    bot = emu.bot(info.token)
    seen_secrets: list[str] = []

    @web.middleware
    async def record_secret(request: web.Request, handler: Any) -> web.StreamResponse:
        seen_secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""))
        return await handler(request)

    app = web.Application(middlewares=[record_secret])
    SimpleRequestHandler(shop_dispatcher(), bot, secret_token=SECRET).register(app, path="/hook")
    async with serve(app) as url:
        assert await bot.set_webhook(f"{url}/hook", secret_token=SECRET)

        await client.start(info, user)
        welcome = (await wait_for(lambda: bot_texts(client, info.id, user)))[0]
        assert welcome.text == "Welcome, Buyer!"
        assert welcome.entities[0]["type"] == "bold"

        answer = await client.press_button(info, user, welcome.message_id, "buy", wait=5)
        assert answer.answered and answer.text == "Here is your invoice"

        async def invoice_sent() -> list[TranscriptEntry]:
            return [e for e in await bot_texts(client, info.id, user) if e.message.get("invoice")]

        invoice = (await wait_for(invoice_sent))[0]
        edited = (await bot_texts(client, info.id, user))[0]
        assert edited.text == "Invoice sent below" and edited.edit_date is not None

        upload = await client.send_file(
            info, user, png_bytes(), filename="me.png", kind="photo", mime_type="image/png"
        )
        assert upload.media is not None

        async def photo_back() -> list[TranscriptEntry]:
            return [
                e for e in await bot_texts(client, info.id, user) if e.caption == "Nice picture"
            ]

        echoed = (await wait_for(photo_back))[0]
        assert echoed.media is not None and echoed.media["file_id"] == upload.media["file_id"]

        payment = await client.pay_invoice(info, user, message_id=invoice.message_id)
        assert payment.status == "paid" and payment.telegram_payment_charge_id

        async def thanked() -> list[TranscriptEntry]:
            return [
                e
                for e in await bot_texts(client, info.id, user)
                if (e.text or "").startswith("Paid")
            ]

        assert (await wait_for(thanked))[0].text == "Paid 25 ⭐, thank you!"
        info_after = await bot.get_webhook_info()
        assert info_after.pending_update_count == 0 and info_after.last_error_date is None
    assert seen_secrets and set(seen_secrets) == {SECRET}
    await bot.session.close()


async def test_webhook_retries_on_errors(emu: Emu, client: EmulatorClient) -> None:
    info = await client.create_bot("flaky_bot", "Flaky")
    user = await client.create_user("Patient")
    bot = emu.bot(info.token)
    calls: list[dict[str, Any]] = []

    async def flaky(request: web.Request) -> web.Response:
        calls.append(await request.json())
        if len(calls) <= 2:
            return web.Response(status=500, text="boom")
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", flaky)
    async with serve(app) as url:
        await bot.set_webhook(f"{url}/hook")
        await client.start(info, user)
        await wait_for(lambda: asyncio.sleep(0, result=len(calls) >= 3))
        info_after = await wait_for(lambda: _pending_zero(bot))
        assert (
            info_after.last_error_message
            == "Wrong response from the webhook: 500 Internal Server Error"
        )
    # the same update each time, delivered once it succeeded
    assert len({call["update_id"] for call in calls}) == 1 and len(calls) == 3
    await bot.session.close()


async def _pending_zero(bot: Bot) -> Any:
    info = await bot.get_webhook_info()
    return info if info.pending_update_count == 0 else None


async def test_webhook_reply_method_is_executed(emu: Emu, client: EmulatorClient) -> None:
    """aiogram may answer a webhook with a method call in the response body; Telegram runs it."""
    info = await client.create_bot("reply_bot", "Replier")
    user = await client.create_user("Asker")
    bot = emu.bot(info.token)
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> Any:
        return message.answer(f"echo: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False).register(app, path="/hook")
    async with serve(app) as url:
        await bot.set_webhook(f"{url}/hook")
        await client.send_message(info, user, "ping")

        async def echoed() -> list[TranscriptEntry]:
            return [e for e in await bot_texts(client, info.id, user) if e.text == "echo: ping"]

        await wait_for(echoed)
    await bot.session.close()
