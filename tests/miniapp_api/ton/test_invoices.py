"""TON prices and invoices through the Mini App API: what a fan is asked to pay (and where),
what a creator sets, and who may see what — another fan's or tenant's invoice is a 404, a fan
never gets into the creator's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import CreditPack
from core.settings import TonNetwork
from core.ton.address import parse_address
from core.ton.messages import decode_comment
from tests.core.ton.helpers import make_wallet
from tests.miniapp_api.auth.helpers import Fan, add_bot, sign_in
from tests.miniapp_api.auth.helpers import TestBot as BotRow
from tests.miniapp_api.conftest import MakeClient

Factory = async_sessionmaker[AsyncSession]
MERCHANT = make_wallet(seed=b"merchant" * 4)
OWNER = 6_600_001


@pytest.fixture
async def pay_client(make_client: MakeClient) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(
        ton_merchant_address=MERCHANT.raw_address,
        ton_network=TonNetwork.MAINNET,
        ton_invoice_ttl=900,
    ) as client:
        yield client


async def add_pack(factory: Factory, bot: BotRow, credits: int = 100, bonus: int = 10) -> int:
    async with factory() as session:
        pack = CreditPack(tenant_id=bot.tenant_id, stars=50, credits=credits, bonus=bonus)
        session.add(pack)
        await session.commit()
        return pack.id


async def set_price(
    client: httpx.AsyncClient, owner: Fan, pack_id: int, ton: str | None
) -> httpx.Response:
    return await client.put(
        "/api/v1/creator/ton/prices",
        json={"kind": "credits", "item_id": pack_id, "amount_ton": ton},
        headers=owner.headers,
    )


async def test_a_fan_gets_an_invoice_to_pay_with_ton_connect(
    pay_client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    owner, fan = await sign_in(pay_client, bot, OWNER), await sign_in(pay_client, bot)
    pack_id = await add_pack(session_factory, bot)
    priced = await set_price(pay_client, owner, pack_id, "1.5")
    assert priced.status_code == 200, priced.text
    assert priced.json() == {
        "kind": "credits",
        "item_id": pack_id,
        "asset": "TON",
        "amount": "1500000000",
        "amount_ton": "1.5",
    }
    listed = await pay_client.get("/api/v1/ton/prices", headers=fan.headers)
    assert [p["amount"] for p in listed.json()["items"]] == ["1500000000"]

    created = await pay_client.post(
        "/api/v1/ton/invoices", json={"kind": "credits", "item_id": pack_id}, headers=fan.headers
    )
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert invoice["status"] == "pending"
    assert invoice["amount_due"] == "1500000000" and invoice["credits"] == 110
    assert invoice["comment"].startswith("atl-")
    request = invoice["ton_connect"]
    [message] = request["messages"]
    paid_to = parse_address(message["address"])
    assert paid_to == parse_address(MERCHANT.raw_address) and not paid_to.bounceable
    assert message["address"] == invoice["address"] and message["address"].startswith("UQ")
    assert message["amount"] == "1500000000"
    assert decode_comment(message["payload"]) == invoice["comment"]
    assert request["network"] == "-239"
    assert invoice["link"] == (
        f"ton://transfer/{invoice['address']}?amount=1500000000&text={invoice['comment']}"
    )

    again = await pay_client.get(f"/api/v1/ton/invoices/{invoice['id']}", headers=fan.headers)
    assert again.status_code == 200 and again.json()["comment"] == invoice["comment"]
    second = await pay_client.post(
        "/api/v1/ton/invoices", json={"kind": "credits", "item_id": pack_id}, headers=fan.headers
    )
    assert second.json()["comment"] != invoice["comment"]


async def test_invoices_are_private_to_their_fan_and_tenant(
    pay_client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot, other_bot = (
        await add_bot(session_factory, owner_telegram_id=OWNER),
        await add_bot(session_factory),
    )
    owner = await sign_in(pay_client, bot, OWNER)
    alice, bob = await sign_in(pay_client, bot), await sign_in(pay_client, bot)
    carol = await sign_in(pay_client, other_bot)
    pack_id = await add_pack(session_factory, bot)
    await set_price(pay_client, owner, pack_id, "2")
    created = await pay_client.post(
        "/api/v1/ton/invoices", json={"kind": "credits", "item_id": pack_id}, headers=alice.headers
    )
    path = f"/api/v1/ton/invoices/{created.json()['id']}"
    for stranger in (bob, carol):
        response = await pay_client.get(path, headers=stranger.headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    # Another tenant's pack cannot be bought from here, priced or not.
    elsewhere = await pay_client.post(
        "/api/v1/ton/invoices", json={"kind": "credits", "item_id": pack_id}, headers=carol.headers
    )
    assert elsewhere.status_code == 404
    assert (await pay_client.get("/api/v1/ton/prices", headers=carol.headers)).json() == {
        "items": []
    }
    assert (await pay_client.get(path)).status_code == 401


# Every creator route of the TON area; the creator panel's matrix test checks none is missing.
CREATOR_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/creator/ton/earnings", None),
    ("GET", "/api/v1/creator/ton/payouts", None),
    ("POST", "/api/v1/creator/ton/payouts", {}),
    ("GET", "/api/v1/creator/ton/prices", None),
    ("PUT", "/api/v1/creator/ton/prices", {"kind": "credits", "item_id": 0, "amount_ton": "1"}),
]


async def test_fans_cannot_use_the_creator_routes(
    pay_client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    fan = await sign_in(pay_client, bot)
    pack_id = await add_pack(session_factory, bot)
    for method, path, body in CREATOR_ROUTES:
        body = {**body, "item_id": pack_id} if body and "item_id" in body else body
        response = await pay_client.request(method, path, json=body, headers=fan.headers)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "forbidden"


async def test_what_cannot_be_invoiced(
    pay_client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    owner, fan = await sign_in(pay_client, bot, OWNER), await sign_in(pay_client, bot)
    pack_id = await add_pack(session_factory, bot)

    async def invoice(kind: str, item_id: int) -> httpx.Response:
        return await pay_client.post(
            "/api/v1/ton/invoices", json={"kind": kind, "item_id": item_id}, headers=fan.headers
        )

    unpriced = await invoice("credits", pack_id)
    assert unpriced.status_code == 404
    assert unpriced.json()["error"]["code"] == "ton_price_not_found"
    missing_post = await invoice("ppv", 999_999)
    assert missing_post.status_code == 404
    assert (await invoice("nft", 1)).status_code == 422
    assert (await invoice("credits", 999_999)).status_code == 404
    assert (await invoice("credits", 0)).status_code == 422

    for bad in ("abc", "0", "-1", "0.0000000001", "1000001"):
        response = await set_price(pay_client, owner, pack_id, bad)
        assert response.status_code == 422, bad
    assert (await set_price(pay_client, owner, pack_id, "3")).status_code == 200
    removed = await set_price(pay_client, owner, pack_id, None)
    assert removed.status_code == 200 and removed.json() is None
    assert (await invoice("credits", pack_id)).status_code == 404


async def test_without_a_merchant_address_ton_payments_are_off(
    make_client: MakeClient, session_factory: Factory
) -> None:
    async with make_client(ton_merchant_address=None) as client:
        bot = await add_bot(session_factory, owner_telegram_id=OWNER)
        owner, fan = await sign_in(client, bot, OWNER), await sign_in(client, bot)
        pack_id = await add_pack(session_factory, bot)
        await set_price(client, owner, pack_id, "1")
        response = await client.post(
            "/api/v1/ton/invoices",
            json={"kind": "credits", "item_id": pack_id},
            headers=fan.headers,
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "ton_payments_unavailable"
