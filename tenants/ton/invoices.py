"""TON prices and invoices: what a fan pays in TON, and what a paid invoice gives them.

Entry points (the Mini App uses them today; the bot's ``/wallet`` and the TON buttons of
``/buy`` are meant to call the same ones)::

    await list_prices(session, tenant_id)                      # what is for sale in TON
    await set_price(session, tenant_id, kind="credits", item_id=pack.id, amount=to_nano("1.5"))
    invoice = await create_invoice(session, settings, tenant_id=t, user_id=u,
                                   kind="credits", item_id=pack.id)
    request = payment_request(invoice, settings)   # .ton_connect (sendTransaction), .link;
                                                   # None once paid
    await get_invoice(session, t, u, invoice.id)   # a fan's own invoice, else 404

An invoice is paid only by the chain: :mod:`tenants.ton.watcher` matches the merchant wallet's
incoming transfers by comment and calls :func:`fulfil` once per invoice. Nothing here trusts
what a wallet returns after ``sendTransaction``.

Each kind of item has a fulfiller in :data:`tenants.ton.items.FULFILLERS` — credit packs
(the ledger credit keyed ``ton:invoice:<id>``), pay-per-view posts and VIP periods — with an
``offer`` (does the item exist and is it for sale; what does it grant) and a ``fulfil`` (grant
it, idempotently). Prices and invoices name items by ``(kind, item_id)``, so a new kind needs
no schema change; a kind without a fulfiller is refused (``ton_kind_unsupported``).

Only ``flush()`` here; the edge commits.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import ConflictError, NotFoundError, ValidationError
from core.models import TonInvoice, TonPrice
from core.models.ton_payments import TON_ASSET, InvoiceStatus
from core.settings import Settings
from core.ton.address import TonAddress, parse_address
from core.ton.paylinks import new_invoice_comment, ton_connect_request, transfer_link
from tenants.ton import payments_repository as repo
from tenants.ton.items import FULFILLERS, Fulfiller

MAX_PRICE_NANO = 10**6 * 10**9  # a million TON: far above anything sold in a bot
MAX_VALIDITY_S = 3600  # how far ahead a sendTransaction request may be valid
UNDERPAID_VALIDITY_S = 900


class TonPaymentsUnavailableError(ConflictError):
    """No merchant address is configured: TON payments are off on this deployment."""

    code = "ton_payments_unavailable"


class UnsupportedKindError(ValidationError):
    code = "ton_kind_unsupported"


class PriceNotFoundError(NotFoundError):
    """The item exists but has no TON price: it is not for sale in TON."""

    code = "ton_price_not_found"


def _fulfiller(kind: str) -> Fulfiller:
    found = FULFILLERS.get(kind)
    if found is None:
        raise UnsupportedKindError(f"{kind!r} cannot be paid in TON (yet)", kind=kind)
    return found


# -- prices --------------------------------------------------------------------------------------


async def list_prices(
    session: AsyncSession, tenant_id: int, kind: str | None = None
) -> Sequence[TonPrice]:
    return await repo.prices(session, tenant_id, kind)


async def set_price(
    session: AsyncSession,
    tenant_id: int,
    *,
    kind: str,
    item_id: int,
    amount: int | None,
    asset: str = TON_ASSET,
) -> TonPrice | None:
    """Put ``item`` on sale for ``amount`` minimal units of ``asset``; ``None`` takes it off."""
    if asset != TON_ASSET:
        raise ValidationError("only TON prices are supported yet", asset=asset)
    existing = await repo.price(session, tenant_id, kind, item_id, asset)
    if amount is None:
        if existing is not None:
            await session.delete(existing)
            await session.flush()
        return None
    if not 0 < amount <= MAX_PRICE_NANO:
        raise ValidationError("a price is more than 0 and at most 1,000,000 TON")
    await _fulfiller(kind).offer(session, tenant_id, item_id)
    row = existing or TonPrice(tenant_id=tenant_id, item_kind=kind, item_id=item_id, asset=asset)
    row.amount = amount
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    return row


# -- invoices ------------------------------------------------------------------------------------


def merchant_address(settings: Settings) -> TonAddress:
    if not settings.ton_merchant_address:
        raise TonPaymentsUnavailableError("TON payments are not set up on this platform")
    return parse_address(settings.ton_merchant_address)


async def create_invoice(
    session: AsyncSession,
    settings: Settings,
    *,
    tenant_id: int,
    user_id: int,
    kind: str,
    item_id: int,
    now: datetime | None = None,
) -> TonInvoice:
    """A pending invoice for one item at its current TON price, payable ``TON_INVOICE_TTL``."""
    merchant = merchant_address(settings)
    fulfiller = _fulfiller(kind)
    offer = await fulfiller.offer(session, tenant_id, item_id)
    price = await repo.price(session, tenant_id, kind, item_id, TON_ASSET)
    if price is None:
        raise PriceNotFoundError("this item has no TON price", kind=kind, item_id=item_id)
    now = now or utcnow()
    invoice = TonInvoice(
        tenant_id=tenant_id,
        user_id=user_id,
        kind=kind,
        item_id=item_id,
        asset=TON_ASSET,
        amount_due=price.amount,
        credits=offer.credits,
        comment=new_invoice_comment(),
        merchant=merchant.raw,
        status=InvoiceStatus.PENDING,
        expires_at=now + timedelta(seconds=settings.ton_invoice_ttl),
        amount_received=0,
        overpaid=0,
        creator_amount=0,
        paid_late=False,
        created_at=now,
    )
    session.add(invoice)
    await session.flush()
    return invoice


async def get_invoice(
    session: AsyncSession, tenant_id: int, user_id: int, invoice_id: int
) -> TonInvoice:
    """The fan's own invoice; someone else's (or another tenant's) is 404."""
    invoice = await repo.invoice(session, tenant_id, invoice_id)
    if invoice is None or invoice.user_id != user_id:
        raise NotFoundError("no such invoice", invoice_id=invoice_id)
    return invoice


def status_of(invoice: TonInvoice, now: datetime | None = None) -> InvoiceStatus:
    """The status as the fan should see it: a pending invoice past its expiry is expired even
    before the sweep has marked it."""
    status = InvoiceStatus(invoice.status)
    if status is InvoiceStatus.PENDING and invoice.expires_at <= (now or utcnow()):
        return InvoiceStatus.EXPIRED
    return status


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    ton_connect: dict[str, Any]  # for tonConnectUI.sendTransaction
    link: str  # ton://transfer/... for the bot and any wallet
    address: str  # the merchant, user-friendly non-bounceable


def payment_request(invoice: TonInvoice, settings: Settings) -> PaymentRequest | None:
    """What to ask the wallet for: what is still due (all of it, or the rest of an
    under-payment), to the merchant, with the invoice's comment; ``None`` once paid or expired.
    A wallet will not send it after the invoice expires (``validUntil``); the rest of an
    under-payment stays payable (the fan's money is already in), for a while at a time."""
    remaining = invoice.amount_due - invoice.amount_received
    status = status_of(invoice)
    if status in (InvoiceStatus.PAID, InvoiceStatus.EXPIRED) or remaining <= 0:
        return None
    now = int(time.time())
    valid_until = min(int(invoice.expires_at.timestamp()), now + MAX_VALIDITY_S)
    if status is InvoiceStatus.UNDERPAID:
        valid_until = max(valid_until, now + UNDERPAID_VALIDITY_S)
    merchant = parse_address(invoice.merchant)
    network = settings.ton_network
    return PaymentRequest(
        ton_connect=ton_connect_request(merchant, remaining, invoice.comment, valid_until, network),
        link=transfer_link(merchant, remaining, invoice.comment, network),
        address=merchant.wallet_form(network),
    )


def merchant_form(invoice: TonInvoice, settings: Settings) -> str:
    """The invoice's merchant address as wallets should be paid: non-bounceable."""
    return parse_address(invoice.merchant).wallet_form(settings.ton_network)


async def fulfil(session: AsyncSession, invoice: TonInvoice, tx_hash: str) -> None:
    """Grant what ``invoice`` sold (called once, by the watcher, when it is paid)."""
    await _fulfiller(invoice.kind).fulfil(session, invoice, tx_hash)
