"""The creator's TON routes (``/api/v1/creator/ton/...``): earnings, TON prices, payouts.

Every route takes ``CreatorDep`` (fans: 403; another tenant's data is simply not in reach).
Requesting a payout is the owner's alone — the money goes to the owner's own linked wallet —
and the worker sends it (:func:`tenants.ton.payouts.run_payouts`); this route only reserves it.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from core.errors import PermissionDeniedError, ValidationError
from core.models import TonPayout
from core.ton.amounts import format_ton, to_nano
from miniapp_api.creator.deps import CreatorDep
from miniapp_api.creator.ton_schemas import (
    EarningsOut,
    PayoutIn,
    PayoutOut,
    PayoutsOut,
    TonPriceIn,
)
from miniapp_api.deps import SessionDep, SettingsDep
from miniapp_api.ton.endpoints import price_out
from miniapp_api.ton.schemas import TonPriceOut, TonPricesOut
from tenants.ton import invoices, payouts

router = APIRouter()


def _nano(text: str) -> int:
    try:
        return to_nano(text)
    except ValueError:
        raise ValidationError("not an amount of TON", value=text[:32]) from None


def payout_out(payout: TonPayout) -> PayoutOut:
    return PayoutOut(
        id=payout.id,
        status=payout.status,
        amount=str(payout.amount),
        amount_ton=format_ton(payout.amount),
        destination=payout.destination_friendly,
        comment=payout.comment,
        tx_hash=payout.tx_hash,
        failure=payout.failure,
        created_at=payout.created_at,
        confirmed_at=payout.confirmed_at,
    )


@router.get("/earnings")
async def earnings(creator: CreatorDep, session: SessionDep, settings: SettingsDep) -> EarningsOut:
    """The creator's TON earnings after the platform fee, and what can be paid out now."""
    found = await payouts.earnings(session, creator.tenant.id)
    return EarningsOut(
        invoices=found.invoices,
        gross=str(found.gross),
        fees=str(found.fees),
        net=str(found.net),
        paid_out=str(found.paid_out),
        in_flight=str(found.in_flight),
        available=str(found.available),
        available_ton=format_ton(found.available),
        fee_bps=settings.ton_platform_fee_bps,
        payout_min=str(settings.ton_payout_min_nano),
        daily_cap=str(settings.ton_payout_daily_cap_nano),
    )


@router.get("/prices")
async def list_prices(creator: CreatorDep, session: SessionDep) -> TonPricesOut:
    prices = await invoices.list_prices(session, creator.tenant.id)
    return TonPricesOut(items=[price_out(price) for price in prices])


@router.put("/prices")
async def set_price(
    body: TonPriceIn, creator: CreatorDep, session: SessionDep
) -> TonPriceOut | None:
    """Sell an item for ``amount_ton`` TON; ``null`` takes it off sale (answers null)."""
    amount = _nano(body.amount_ton) if body.amount_ton is not None else None
    price = await invoices.set_price(
        session, creator.tenant.id, kind=body.kind, item_id=body.item_id, amount=amount
    )
    return price_out(price) if price is not None else None


@router.post("/payouts", status_code=status.HTTP_201_CREATED)
async def request_payout(
    body: PayoutIn, creator: CreatorDep, session: SessionDep, settings: SettingsDep
) -> PayoutOut:
    """Pay (part of) the available earnings out to the owner's linked wallet."""
    if not creator.is_owner:
        raise PermissionDeniedError("only the owner can request payouts")
    payout = await payouts.request_payout(
        session,
        settings,
        tenant_id=creator.tenant.id,
        user_id=creator.user.user_id,
        telegram_id=creator.user.telegram_id,
        amount=_nano(body.amount_ton) if body.amount_ton is not None else None,
    )
    return payout_out(payout)


@router.get("/payouts")
async def list_payouts(creator: CreatorDep, session: SessionDep) -> PayoutsOut:
    found = await payouts.list_payouts(session, creator.tenant.id)
    return PayoutsOut(items=[payout_out(payout) for payout in found])
