"""Paying with TON in chat: "Pay with TON" under ``/buy``, a TON invoice with its ``ton://``
link and QR code, and — when the fan's wallet is connected through ``/wallet`` — the payment
request sent to that wallet.

The invoice is created through :mod:`tenants.ton.invoices` (the Mini App's service: price,
unique comment, expiry) and shown after the commit. Asking the wallet runs in the background
(:class:`bot.wallet_ton.connect.ConnectWaits`), once per invoice (a Redis marker), bounded by
``TON_SEND_TIMEOUT``: pytonconnect's ``send_transaction`` waits forever on its own. Whatever
the wallet answers, nothing is credited here — the BoC it returns is ignored. Credits come only
from the chain watcher (:mod:`tenants.ton.watcher`), which also tells the fan; until then the
chat says "waiting for the network to confirm".

PPV posts (the locked post's buttons, :func:`unlock_button`) and VIP periods (``/vip``,
:func:`vip_buttons`; 30 days paid once, TON has no subscriptions) are sold the same way.

Callback data: ``tonpay:list`` (the priced packs), ``tonpay:i:<kind>:<item id>`` (an invoice
for ``credits``, ``ppv`` or ``vip``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum

import httpx
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from pytonconnect.exceptions import TonConnectError, UserRejectsError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Texts
from bot.wallet_ton.connect import WaitDeps, current_storage, manifest_url
from bot.wallet_ton.messages import qr_png
from core.models import CreditPack, TonInvoice
from core.models.ton_payments import TonItemKind
from core.settings import Settings
from core.ton.address import parse_address
from core.ton.amounts import format_ton
from tenants import payments
from tenants.ton import invoices
from tenants.ton import service as ton_service
from tenants.ton.tonconnect import ChatTonConnect, transaction_request

logger = logging.getLogger(__name__)

LIST_DATA = "tonpay:list"
ITEM_PREFIX = "tonpay:i:"
CREDITS = TonItemKind.CREDITS.value
PPV = TonItemKind.PPV.value
VIP = TonItemKind.VIP.value
_INVOICE_KEYS = {CREDITS: "tonpay.invoice", PPV: "tonpay.invoice_ppv", VIP: "tonpay.invoice_vip"}


def item_data(kind: str, item_id: int) -> str:
    return f"{ITEM_PREFIX}{kind}:{item_id}"


def parse_item_data(data: str) -> tuple[str, int] | None:
    kind, _, raw_id = data.removeprefix(ITEM_PREFIX).partition(":")
    if kind not in _INVOICE_KEYS or not raw_id.isdigit() or len(raw_id) > 18:
        return None
    return kind, int(raw_id)


async def prices_of(
    session: AsyncSession, settings: Settings, tenant_id: int, kind: str
) -> dict[int, int]:
    """``item id → nanotons`` of one kind; empty while TON payments are off."""
    if not settings.ton_merchant_address:
        return {}
    return {p.item_id: p.amount for p in await invoices.list_prices(session, tenant_id, kind)}


def unlock_button(texts: Texts, post_id: int, amount: int) -> InlineKeyboardButton:
    """Under a locked PPV post that has a TON price."""
    return InlineKeyboardButton(
        text=texts("tonpay.unlock_button", amount=format_ton(amount)),
        callback_data=item_data(PPV, post_id),
    )


def vip_buttons(
    texts: Texts, packages: Sequence[tuple[int, str]], prices: dict[int, int]
) -> list[list[InlineKeyboardButton]]:
    """One row per buyable VIP package (id, name) that has a TON price."""
    return [
        [
            InlineKeyboardButton(
                text=texts("tonpay.vip_button", package=name, amount=format_ton(prices[pid])),
                callback_data=item_data(VIP, pid),
            )
        ]
        for pid, name in packages
        if pid in prices
    ]


class Answer(StrEnum):
    SENT = "sent"  # the wallet signed and sent it: the chain decides now
    REJECTED = "rejected"
    NO_ANSWER = "no_answer"


_ANSWER_KEYS = {
    Answer.SENT: "tonpay.waiting",
    Answer.REJECTED: "tonpay.rejected",
    Answer.NO_ANSWER: "tonpay.no_answer",
}


@dataclass(frozen=True, slots=True)
class PricedPack:
    pack: CreditPack
    amount: int  # nanotons


async def priced_packs(
    session: AsyncSession, settings: Settings, tenant_id: int
) -> list[PricedPack]:
    """The tenant's active packs that have a TON price (none while TON payments are off)."""
    prices = await prices_of(session, settings, tenant_id, CREDITS)
    if not prices:
        return []
    packs = await payments.list_packs(session, tenant_id)
    return [PricedPack(pack, prices[pack.id]) for pack in packs if pack.id in prices]


async def offers_ton(session: AsyncSession, settings: Settings, tenant_id: int) -> bool:
    """Whether ``/buy`` shows "Pay with TON": TON payments are on and a pack has a price."""
    if not settings.ton_merchant_address:
        return False
    return bool(await invoices.list_prices(session, tenant_id, CREDITS))


def ton_row(texts: Texts) -> list[InlineKeyboardButton]:
    """The "Pay with TON" row under the Stars packs of ``/buy``."""
    return [InlineKeyboardButton(text=texts("tonpay.button"), callback_data=LIST_DATA)]


def packs_keyboard(texts: Texts, priced: Sequence[PricedPack]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts(
                        "tonpay.pack_button",
                        credits=item.pack.total_credits,
                        amount=format_ton(item.amount),
                    ),
                    callback_data=item_data(CREDITS, item.pack.id),
                )
            ]
            for item in priced
        ]
    )


def invoice_caption(
    texts: Texts, invoice: TonInvoice, address: str, link: str, item_name: str = ""
) -> str:
    return texts(
        _INVOICE_KEYS.get(invoice.kind, "tonpay.invoice"),
        amount=format_ton(invoice.amount_due - invoice.amount_received),
        credits=invoice.credits,
        package=item_name,
        address=address,
        comment=invoice.comment,
        link=link,
        expires=invoice.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
    )


async def show_invoice(
    bot: Bot,
    chat_id: int,
    texts: Texts,
    invoice: TonInvoice,
    settings: Settings,
    item_name: str = "",
) -> int | None:
    """The invoice as a QR code of its ``ton://`` link with the details; its message id."""
    request = invoices.payment_request(invoice, settings)
    if request is None:
        return None
    sent = await bot.send_photo(
        chat_id,
        BufferedInputFile(qr_png(request.link), filename="ton-invoice.png"),
        caption=invoice_caption(texts, invoice, request.address, request.link, item_name),
    )
    return sent.message_id


async def connected_address(
    deps: WaitDeps, session: AsyncSession, tenant_id: int, user_id: int, bot_id: int, chat_id: int
) -> str | None:
    """The linked wallet (user-friendly) if this chat holds its TON Connect session."""
    wallet = await ton_service.get_wallet(session, tenant_id, user_id)
    storage = await current_storage(deps.redis, deps.settings, bot_id, chat_id)
    if wallet is None or storage is None:
        return None
    connection = await storage.connection()
    items = connection.get("connect_event", {}).get("payload", {}).get("items", [])
    account = next((i for i in items if isinstance(i, dict) and i.get("name") == "ton_addr"), {})
    try:
        same = parse_address(str(account.get("address", ""))).raw == wallet.address_raw
    except Exception:
        same = False
    return wallet.address if same else None


def asked_marker(invoice_id: int) -> str:
    return f"ton:pay:asked:{invoice_id}"


async def ask_wallet(deps: WaitDeps, bot_id: int, chat_id: int, invoice: TonInvoice) -> Answer:
    """Send the invoice's transfer to the chat's connected wallet, once, and wait (bounded)
    for its answer. A "sent" answer only means the wallet says so: the watcher decides."""
    settings = deps.settings
    request = invoices.payment_request(invoice, settings)
    storage = await current_storage(deps.redis, settings, bot_id, chat_id)
    if request is None or storage is None:
        return Answer.NO_ANSWER
    if not await deps.redis.set(
        asked_marker(invoice.id), "1", nx=True, ex=settings.ton_invoice_ttl + 3600
    ):
        return Answer.NO_ANSWER  # asked before: a wallet is never asked twice for one invoice
    connector = ChatTonConnect(manifest_url(settings), storage, policy=deps.policy)
    try:
        async with asyncio.timeout(settings.ton_send_timeout):
            if not await connector.restore_connection() or not connector.connected:
                return Answer.NO_ANSWER
            sending = asyncio.ensure_future(
                connector.send_transaction(transaction_request(request.ton_connect))
            )
            await asyncio.wait({sending, connector.unreachable}, return_when="FIRST_COMPLETED")
            if not sending.done():
                sending.cancel()
                return Answer.NO_ANSWER
            sending.result()  # the BoC: ignored on purpose, the chain is the only proof
        return Answer.SENT
    except TimeoutError:
        return Answer.NO_ANSWER
    except UserRejectsError:
        return Answer.REJECTED
    except TonConnectError as exc:
        logger.info("a TON wallet refused a payment request: %s", type(exc).__name__)
        return Answer.REJECTED
    except httpx.HTTPError as exc:  # the bridge did not take the request
        logger.info("a TON payment request did not reach the bridge: %s", type(exc).__name__)
        return Answer.NO_ANSWER
    finally:
        connector.close()


async def ask_and_report(
    deps: WaitDeps,
    bot: Bot,
    texts: Texts,
    chat_id: int,
    invoice: TonInvoice,
    message_id: int,
) -> Answer:
    """:func:`ask_wallet`, then edit the "confirm it in your wallet" message with the answer."""
    answer = await ask_wallet(deps, bot.id, chat_id, invoice)
    try:
        await bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=texts(_ANSWER_KEYS[answer])
        )
    except TelegramAPIError as exc:
        logger.info("TON payment message %s not edited: %s", message_id, exc)
    return answer
