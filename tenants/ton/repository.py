"""All SQL of linked TON wallets; every statement starts from :func:`core.db.tenant_select`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import TonWallet


async def wallet_of_user(session: AsyncSession, tenant_id: int, user_id: int) -> TonWallet | None:
    return await session.scalar(
        tenant_select(TonWallet, tenant_id).where(TonWallet.user_id == user_id)
    )


async def wallet_by_address(
    session: AsyncSession, tenant_id: int, address_raw: str
) -> TonWallet | None:
    return await session.scalar(
        tenant_select(TonWallet, tenant_id).where(TonWallet.address_raw == address_raw)
    )


async def save(session: AsyncSession, wallet: TonWallet) -> TonWallet:
    session.add(wallet)
    await session.flush()
    return wallet


async def remove(session: AsyncSession, wallet: TonWallet) -> None:
    await session.delete(wallet)
    await session.flush()
