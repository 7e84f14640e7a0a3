"""The TON stand-in (``devtools.ton``: a toncenter-compatible chain with real BoCs and
signatures, over HTTP), a merchant wallet on it, a tenant selling a credit pack in TON and the
worker ``ctx`` the TON tasks run with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import ledger
from core.models import CreditPack, TonInvoice, User
from core.settings import Settings, TonNetwork
from devtools.ton import TonClient, TonSettings, WalletInfo, running_ton
from tenants.ton import invoices
from tests.miniapp_api.auth.helpers import add_bot
from tests.miniapp_api.conftest import make_client  # noqa: F401 - the fixture, for the API flows

Factory = async_sessionmaker[AsyncSession]
NANO = 10**9
PRICE = 2 * NANO
FAST_CLIENT = {"backoff_base": 0.01, "backoff_cap": 0.05, "max_retries": 8}


@dataclass
class Chain:
    base_url: str
    ton: TonClient
    merchant: WalletInfo


@dataclass
class Shop:
    tenant_id: int
    user_id: int
    pack_id: int


@pytest.fixture
async def chain() -> AsyncIterator[Chain]:
    async with running_ton(TonSettings()) as (base_url, ton):
        merchant = await ton.create_wallet("v4r2", balance=NANO, label="merchant")
        yield Chain(base_url, ton, merchant)


@pytest.fixture
def ton_settings(settings: Settings, chain: Chain) -> Settings:
    return settings.model_copy(
        update={
            "ton_api_base": chain.base_url,
            "ton_network": TonNetwork.MAINNET,
            "ton_merchant_address": chain.merchant.non_bounceable,
            "ton_watcher_page_size": 50,
        }
    )


@pytest.fixture
def ctx(ton_settings: Settings, session_factory: Factory, arq_redis: ArqRedis) -> dict[str, Any]:
    return {
        "settings": ton_settings,
        "session_factory": session_factory,
        "redis": arq_redis,
        "ton_client_options": FAST_CLIENT,
        "ton_confirm_polls": 3,
        "ton_confirm_interval": 0.05,
    }


@pytest.fixture
async def shop(session_factory: Factory) -> Shop:
    bot = await add_bot(session_factory)
    async with session_factory() as session:
        user = User(tenant_id=bot.tenant_id, telegram_id=515151, first_name="Fan")
        pack = CreditPack(tenant_id=bot.tenant_id, stars=50, credits=100, bonus=20)
        session.add_all([user, pack])
        await session.flush()
        await invoices.set_price(
            session, bot.tenant_id, kind="credits", item_id=pack.id, amount=PRICE
        )
        await session.commit()
        return Shop(bot.tenant_id, user.id, pack.id)


async def new_invoice(factory: Factory, settings: Settings, shop: Shop) -> TonInvoice:
    async with factory() as session:
        invoice = await invoices.create_invoice(
            session,
            settings,
            tenant_id=shop.tenant_id,
            user_id=shop.user_id,
            kind="credits",
            item_id=shop.pack_id,
        )
        await session.commit()
        return invoice


async def invoice_state(factory: Factory, invoice_id: int) -> TonInvoice:
    async with factory() as session:
        found = await session.get(TonInvoice, invoice_id)
        assert found is not None
        return found


async def balance(factory: Factory, shop: Shop) -> int:
    async with factory() as session:
        return (await ledger.user_balance(session, shop.tenant_id, shop.user_id)).available


async def paid_invoices(factory: Factory) -> int:
    async with factory() as session:
        rows = await session.scalars(select(TonInvoice).where(TonInvoice.status == "paid"))
        return len(rows.all())
