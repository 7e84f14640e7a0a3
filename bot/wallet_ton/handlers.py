"""``/wallet``: the fan's TON wallet in chat — shown when linked, connected through TON Connect
otherwise (a link button and a QR code; the wait runs in the background, see
:mod:`bot.wallet_ton.connect`), disconnected on request. And "Pay with TON" under ``/buy``
(:mod:`bot.wallet_ton.pay`): the priced packs, then an invoice — asked of the connected wallet
when there is one."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CallbackIs
from bot.i18n import Texts
from bot.routing import TenantInfo
from bot.wallet_ton import connect, pay
from bot.wallet_ton.messages import (
    CANCEL_DATA,
    CONNECT_PREFIX,
    DISCONNECT_DATA,
    disconnect_keyboard,
    edit_caption,
    link_keyboard,
    qr_png,
    wallets_keyboard,
)
from core.errors import ConflictError, NotFoundError
from core.models import TonInvoice
from tenants.ton import invoices
from tenants.ton import service as ton_service
from tenants.ton.tonconnect import find_wallet_app, load_wallet_apps
from tenants.users import BotUser
from tenants.vip import repository as vip_repo

if TYPE_CHECKING:
    from bot.runtime import BotRuntime


async def wallet_command(
    message: Message,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    runtime: BotRuntime,
) -> SendMessage:
    wallet = await ton_service.get_wallet(session, tenant.id, user.id)
    if wallet is not None:
        return message.answer(
            texts("tonconnect.linked", address=wallet.address),
            reply_markup=disconnect_keyboard(texts),
        )
    apps = await load_wallet_apps(runtime.redis, runtime.settings)
    return message.answer(texts("tonconnect.choose"), reply_markup=wallets_keyboard(apps))


async def connect_button(
    callback: CallbackQuery,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    runtime: BotRuntime,
) -> Any:
    """Show a fresh link for the chosen wallet (replacing any older one) and start waiting."""
    apps = await load_wallet_apps(runtime.redis, runtime.settings)
    app = find_wallet_app(apps, (callback.data or "").removeprefix(CONNECT_PREFIX))
    if app is None:
        return callback.answer(texts("tonconnect.gone"), show_alert=True)
    chat_id, redis = user.telegram_id, runtime.redis
    old = await connect.cancel_pending(redis, connect.slot_of(bot.id, chat_id))
    if old is not None and old.message_id is not None:
        await edit_caption(bot, chat_id, old.message_id, texts("tonconnect.cancelled"), None)
    pending, link = await connect.start_connect(
        redis,
        runtime.settings,
        app,
        tenant_id=tenant.id,
        user_id=user.id,
        telegram_bot_id=bot.id,
        chat_id=chat_id,
        locale=texts.locale,
    )
    minutes = max(round(runtime.settings.ton_connect_timeout / 60), 1)
    sent = await bot.send_photo(
        chat_id,
        BufferedInputFile(qr_png(link), filename="ton-connect.png"),
        caption=texts("tonconnect.scan", wallet=app.name, minutes=minutes),
        reply_markup=link_keyboard(texts, app, link),
    )
    pending.message_id = sent.message_id
    await connect.save_pending(redis, pending)
    runtime.ton_waits.wait_for(pending)
    return callback.answer()


async def cancel_button(
    callback: CallbackQuery, user: BotUser, texts: Texts, bot: Bot, runtime: BotRuntime
) -> Any:
    await connect.cancel_pending(runtime.redis, connect.slot_of(bot.id, user.telegram_id))
    if isinstance(callback.message, Message):
        await edit_caption(
            bot, user.telegram_id, callback.message.message_id, texts("tonconnect.cancelled"), None
        )
    return callback.answer()


async def disconnect_button(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    runtime: BotRuntime,
    after_commit: list[Any],
) -> Any:
    """Unlink the wallet; after the commit, tell the wallet (bounded, in the background)."""
    await ton_service.unlink_wallet(session, tenant.id, user.id)
    after_commit.append(partial(_forget, runtime.ton_waits, bot.id, user.telegram_id))
    text = texts("tonconnect.disconnected")
    message = callback.message
    if isinstance(message, Message):
        if message.photo:
            await edit_caption(bot, user.telegram_id, message.message_id, text, None)
        else:
            await message.edit_text(text, reply_markup=None)
    return callback.answer()


async def _forget(waits: connect.ConnectWaits, telegram_bot_id: int, chat_id: int) -> None:
    waits.spawn(
        connect.forget_session(waits.deps, telegram_bot_id, chat_id),
        f"ton-forget:{telegram_bot_id}:{chat_id}",
    )


async def ton_packs_button(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    texts: Texts,
    runtime: BotRuntime,
) -> Any:
    priced = await pay.priced_packs(session, runtime.settings, tenant.id)
    if not priced:
        return callback.answer(texts("tonpay.unavailable"), show_alert=True)
    if isinstance(callback.message, Message):
        await callback.message.answer(
            texts("tonpay.choose"), reply_markup=pay.packs_keyboard(texts, priced)
        )
    return callback.answer()


async def ton_item_button(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    runtime: BotRuntime,
    after_commit: list[Any],
) -> Any:
    """A TON invoice for a pack, a post or a VIP period; shown (and asked of the connected
    wallet) once it is committed."""
    item = pay.parse_item_data(callback.data or "")
    if item is None:
        return callback.answer()
    kind, item_id = item
    try:
        invoice = await invoices.create_invoice(
            session,
            runtime.settings,
            tenant_id=tenant.id,
            user_id=user.id,
            kind=kind,
            item_id=item_id,
        )
    except (invoices.TonPaymentsUnavailableError, invoices.UnsupportedKindError):
        return callback.answer(texts("tonpay.unavailable"), show_alert=True)
    except NotFoundError:  # gone, or no longer sold in TON
        return callback.answer(texts(_GONE[kind]), show_alert=True)
    except ConflictError:  # the post is not sold on its own
        return callback.answer(texts("feed.not_for_sale"), show_alert=True)
    name = await _item_name(session, tenant.id, kind, item_id)
    address = await pay.connected_address(
        runtime.ton_waits.deps, session, tenant.id, user.id, bot.id, user.telegram_id
    )
    after_commit.append(
        partial(_deliver_invoice, runtime, bot, texts, user.telegram_id, invoice, address, name)
    )
    return callback.answer()


_GONE = {pay.CREDITS: "payments.pack_gone", pay.PPV: "feed.post_gone", pay.VIP: "vip.package_gone"}


async def _item_name(session: AsyncSession, tenant_id: int, kind: str, item_id: int) -> str:
    if kind != pay.VIP:
        return ""
    package = await vip_repo.get_package(session, tenant_id, item_id)
    return package.name if package is not None else ""


async def _deliver_invoice(
    runtime: BotRuntime,
    bot: Bot,
    texts: Texts,
    chat_id: int,
    invoice: TonInvoice,
    address: str | None,
    name: str,
) -> None:
    await pay.show_invoice(bot, chat_id, texts, invoice, runtime.settings, name)
    if address is None:
        return
    note = await bot.send_message(chat_id, texts("tonpay.asked_wallet", address=address))
    waits = runtime.ton_waits
    waits.spawn(
        pay.ask_and_report(waits.deps, bot, texts, chat_id, invoice, note.message_id),
        f"ton-pay:{invoice.id}",
    )


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="wallet_ton")
    router.message.register(wallet_command, Command("wallet"))
    router.callback_query.register(connect_button, CallbackIs(CONNECT_PREFIX, prefix=True))
    router.callback_query.register(cancel_button, CallbackIs(CANCEL_DATA))
    router.callback_query.register(disconnect_button, CallbackIs(DISCONNECT_DATA))
    router.callback_query.register(ton_packs_button, CallbackIs(pay.LIST_DATA))
    router.callback_query.register(ton_item_button, CallbackIs(pay.ITEM_PREFIX, prefix=True))
    return router
