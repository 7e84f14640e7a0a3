"""The whole TON money path through the API, the worker's tasks and the TON stand-in: a fan
pays an invoice from a real wallet, the watcher credits it, the creator (who linked a wallet
with a real ``ton_proof``) sees the earnings after the platform fee and is paid out on chain;
a co-admin may look but not withdraw, and nobody is paid without a linked wallet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from pydantic import SecretStr
from pytoniq_core.crypto.keys import mnemonic_new
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import CreditPack
from core.settings import Settings, TonNetwork
from devtools.ton import TonClient, TonSettings, WalletInfo, backend_payload, running_ton
from jobs.ton.tasks import process_ton_payouts, watch_ton_payments
from tests.miniapp_api.auth.helpers import Fan, add_bot, sign_in
from tests.miniapp_api.conftest import MakeClient

Factory = async_sessionmaker[AsyncSession]
NANO = 10**9
DOMAIN = "atelier.example"
OWNER = 8_800_001
FAST_CLIENT = {"backoff_base": 0.01, "backoff_cap": 0.05}


@pytest.fixture
async def stand_in() -> AsyncIterator[tuple[str, TonClient]]:
    async with running_ton(TonSettings()) as running:
        yield running


@pytest.fixture
async def money(
    make_client: MakeClient, stand_in: tuple[str, TonClient], settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, WalletInfo]]:
    base_url, ton = stand_in
    words = mnemonic_new(24)
    platform = await ton.create_wallet("v4r2", mnemonic=words, balance=100 * NANO)
    overrides: dict[str, Any] = {
        "public_base_url": f"https://{DOMAIN}",
        "ton_api_base": base_url,
        "ton_network": TonNetwork.MAINNET,
        "ton_merchant_address": platform.non_bounceable,  # one wallet takes and pays
        "ton_platform_mnemonic": SecretStr(" ".join(words)),
        "ton_platform_fee_bps": 2000,
    }
    async with make_client(**overrides) as client:
        yield client, settings.model_copy(update=overrides), platform


async def link_wallet(client: httpx.AsyncClient, ton: TonClient, who: Fan) -> WalletInfo:
    """Link a fresh stand-in wallet with a real ton_proof, as the Mini App does."""
    wallet = await ton.create_wallet("v4r2", deployed=False)
    issued = await client.post("/api/v1/ton/proof-payload", headers=who.headers)
    body = backend_payload(wallet.test_wallet(), DOMAIN, issued.json()["payload"])
    linked = await client.post("/api/v1/ton/wallet", json=body, headers=who.headers)
    assert linked.status_code == 200, linked.text
    return wallet


async def test_fan_pays_creator_is_paid_out(
    money: tuple[httpx.AsyncClient, Settings, WalletInfo],
    stand_in: tuple[str, TonClient],
    session_factory: Factory,
    arq_redis: ArqRedis,
) -> None:
    client, settings, platform = money
    _, ton = stand_in
    ctx = {
        "settings": settings,
        "session_factory": session_factory,
        "redis": arq_redis,
        "ton_client_options": FAST_CLIENT,
        "ton_confirm_interval": 0.05,
    }
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    owner, fan = await sign_in(client, bot, OWNER), await sign_in(client, bot)
    helper = await sign_in(client, bot)
    added = await client.post(
        "/api/v1/creator/admins", json={"telegram_id": helper.telegram_id}, headers=owner.headers
    )
    assert added.status_code == 201
    async with session_factory() as session:
        pack = CreditPack(tenant_id=bot.tenant_id, stars=50, credits=500, bonus=0)
        session.add(pack)
        await session.commit()
    await client.put(
        "/api/v1/creator/ton/prices",
        json={"kind": "credits", "item_id": pack.id, "amount_ton": "5"},
        headers=owner.headers,
    )

    # The fan pays the invoice exactly as the Mini App asked the wallet to.
    invoice = (
        await client.post(
            "/api/v1/ton/invoices",
            json={"kind": "credits", "item_id": pack.id},
            headers=fan.headers,
        )
    ).json()
    [message] = invoice["ton_connect"]["messages"]
    fan_wallet = await ton.create_wallet("v4r2", balance=10 * NANO)
    await ton.transfer(
        fan_wallet, message["address"], int(message["amount"]), payload=message["payload"]
    )
    pending = await client.get(f"/api/v1/ton/invoices/{invoice['id']}", headers=fan.headers)
    assert pending.json()["status"] == "pending"  # nothing until the watcher reads the chain

    assert (await watch_ton_payments(ctx))["outcomes"] == {"paid": 1}
    paid = (await client.get(f"/api/v1/ton/invoices/{invoice['id']}", headers=fan.headers)).json()
    assert paid["status"] == "paid" and paid["ton_connect"] is None and paid["link"] is None
    wallet = (await client.get("/api/v1/wallet", headers=fan.headers)).json()
    assert wallet["available"] == 500

    earnings = (await client.get("/api/v1/creator/ton/earnings", headers=helper.headers)).json()
    assert (earnings["gross"], earnings["fees"], earnings["available"]) == (
        str(5 * NANO),
        str(NANO),
        str(4 * NANO),
    )

    # No linked wallet yet: nowhere to pay. A co-admin can look but not withdraw.
    nowhere = await client.post("/api/v1/creator/ton/payouts", json={}, headers=owner.headers)
    assert nowhere.status_code == 409 and nowhere.json()["error"]["code"] == "ton_wallet_required"
    helper_try = await client.post("/api/v1/creator/ton/payouts", json={}, headers=helper.headers)
    assert helper_try.status_code == 403
    too_much = await client.post(
        "/api/v1/creator/ton/payouts", json={"amount_ton": "4.5"}, headers=owner.headers
    )
    assert too_much.status_code == 409  # checked after the wallet: still no wallet

    creator_wallet = await link_wallet(client, ton, owner)
    too_much = await client.post(
        "/api/v1/creator/ton/payouts", json={"amount_ton": "4.5"}, headers=owner.headers
    )
    assert too_much.json()["error"]["code"] == "ton_payout_exceeds_earnings"
    requested = await client.post("/api/v1/creator/ton/payouts", json={}, headers=owner.headers)
    assert requested.status_code == 201, requested.text
    payout = requested.json()
    assert payout["status"] == "requested" and payout["amount"] == str(4 * NANO)
    assert payout["destination"] == creator_wallet.non_bounceable

    summary = await process_ton_payouts(ctx)
    assert summary["confirmed"] == 1
    listed = (await client.get("/api/v1/creator/ton/payouts", headers=helper.headers)).json()
    [done] = listed["items"]
    assert done["status"] == "confirmed" and done["tx_hash"]
    account = await ton.account(creator_wallet.address)
    assert account.balance == 4 * NANO  # exactly the payout: the platform paid the fees
    after = (await client.get("/api/v1/creator/ton/earnings", headers=owner.headers)).json()
    assert (after["paid_out"], after["available"]) == (str(4 * NANO), "0")
    # The platform wallet both took the payment and paid out: the watcher is not confused by
    # its own outgoing transfer.
    assert (await watch_ton_payments(ctx))["outcomes"] == {}
    assert platform.address  # the merchant
