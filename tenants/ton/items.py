"""What fans buy with TON, one :class:`Fulfiller` per kind of item: credit packs, pay-per-view
posts and VIP periods.

Posts and VIP periods follow the rules of their Stars sales (the content and VIP areas): a
post bought in TON is unlocked by ``grant_unlock``, a VIP period extends the same subscription
row, and the invoice's id is the idempotency reference, so a repeated fulfilment changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger
from core.db import tenant_select, utcnow
from core.errors import NotFoundError
from core.models import CreditPack, PostAccess, TonInvoice, UnlockSource
from core.models.ton_payments import TonItemKind
from tenants.content import repository as content_repo
from tenants.content import service as content
from tenants.content.service import NotForSaleError
from tenants.vip import repository as vip_repo
from tenants.vip import service as vip


@dataclass(frozen=True, slots=True)
class Offer:
    """What an item grants when paid (credits for a pack; 0 for kinds that grant access)."""

    credits: int = 0


class Fulfiller(Protocol):
    """How one kind of item is sold: checked when invoiced, granted when paid (idempotently)."""

    async def offer(self, session: AsyncSession, tenant_id: int, item_id: int) -> Offer: ...

    async def fulfil(self, session: AsyncSession, invoice: TonInvoice, tx_hash: str) -> None: ...


class CreditPackFulfiller:
    async def offer(self, session: AsyncSession, tenant_id: int, item_id: int) -> Offer:
        pack = await session.scalar(
            tenant_select(CreditPack, tenant_id).where(
                CreditPack.id == item_id, CreditPack.is_active.is_(True)
            )
        )
        if pack is None:
            raise NotFoundError("no such credit pack", item_id=item_id)
        return Offer(credits=pack.total_credits)

    async def fulfil(self, session: AsyncSession, invoice: TonInvoice, tx_hash: str) -> None:
        account = await ledger.get_or_create_account(
            session, invoice.tenant_id, user_id=invoice.user_id
        )
        await ledger.credit(
            session,
            invoice.tenant_id,
            account.id,
            invoice.credits,
            idempotency_key=f"ton:invoice:{invoice.id}",
            reason="ton purchase",
            meta={"invoice_id": invoice.id, "tx_hash": tx_hash},
        )


def _reference(invoice: TonInvoice) -> str:
    return f"ton:invoice:{invoice.id}"


class PostFulfiller:
    """A pay-per-view post: sold while published and PPV; paid → unlocked for good."""

    async def offer(self, session: AsyncSession, tenant_id: int, item_id: int) -> Offer:
        post = await content_repo.get_visible_post(session, tenant_id, item_id, utcnow())
        if post is None:
            raise NotFoundError("post not found", post_id=item_id)
        if post.access != PostAccess.PPV:
            raise NotForSaleError("this post is not sold on its own")
        return Offer()

    async def fulfil(self, session: AsyncSession, invoice: TonInvoice, tx_hash: str) -> None:
        await content.grant_unlock(
            session,
            tenant_id=invoice.tenant_id,
            user_id=invoice.user_id,
            post_id=invoice.item_id,
            source=UnlockSource.PPV,
            source_ref=_reference(invoice),
        )


class VipPeriodFulfiller:
    """Thirty days of a VIP package, paid once (no renewal: TON has no subscriptions)."""

    async def offer(self, session: AsyncSession, tenant_id: int, item_id: int) -> Offer:
        package = await vip_repo.get_package(session, tenant_id, item_id)
        if package is None or not package.is_active:
            raise NotFoundError("VIP package not found", package_id=item_id)
        return Offer()

    async def fulfil(self, session: AsyncSession, invoice: TonInvoice, tx_hash: str) -> None:
        await vip.apply_one_off_period(
            session,
            invoice.tenant_id,
            user_id=invoice.user_id,
            package_id=invoice.item_id,
            reference=_reference(invoice),
            now=utcnow(),
        )


FULFILLERS: dict[str, Fulfiller] = {
    TonItemKind.CREDITS.value: CreditPackFulfiller(),
    TonItemKind.PPV.value: PostFulfiller(),
    TonItemKind.VIP.value: VipPeriodFulfiller(),
}


def register_fulfiller(kind: str, fulfiller: Fulfiller) -> None:
    """Make another ``kind`` payable in TON (or replace one, e.g. in a test)."""
    FULFILLERS[kind] = fulfiller
