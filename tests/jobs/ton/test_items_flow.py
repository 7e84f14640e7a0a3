"""Premium content bought in TON: a pay-per-view post and a VIP period, priced in TON by the
creator, paid from a real wallet on the stand-in chain and granted only once the watcher has
read the payment — the same unlock and subscription rows the Stars sales make."""

from __future__ import annotations

from typing import Any

import httpx
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from devtools.ton import TonClient, WalletInfo
from jobs.ton.tasks import watch_ton_payments
from tests.jobs.ton.test_money_flow import FAST_CLIENT, NANO, money, stand_in
from tests.miniapp_api.auth.helpers import Fan, add_bot, sign_in

Factory = async_sessionmaker[AsyncSession]
OWNER = 8_800_101
__all__ = ["money", "stand_in"]  # fixtures shared with the money-flow tests


async def _ok(client: httpx.AsyncClient, method: str, path: str, who: Fan, **kw: Any) -> Any:
    response = await client.request(method, f"/api/v1{path}", headers=who.headers, **kw)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def _pay(client: httpx.AsyncClient, ton: TonClient, fan: Fan, kind: str, item: int) -> int:
    invoice = await _ok(client, "POST", "/ton/invoices", fan, json={"kind": kind, "item_id": item})
    [message] = invoice["ton_connect"]["messages"]
    wallet = await ton.create_wallet("v4r2", balance=10 * NANO)
    await ton.transfer(
        wallet, message["address"], int(message["amount"]), payload=message["payload"]
    )
    return int(invoice["id"])


async def test_a_post_and_a_vip_period_bought_in_ton(
    money: tuple[httpx.AsyncClient, Settings, WalletInfo],
    stand_in: tuple[str, TonClient],
    session_factory: Factory,
    arq_redis: ArqRedis,
) -> None:
    client, settings, _ = money
    _, ton = stand_in
    ctx = {
        "settings": settings,
        "session_factory": session_factory,
        "redis": arq_redis,
        "ton_client_options": FAST_CLIENT,
    }
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    owner, fan = await sign_in(client, bot, OWNER), await sign_in(client, bot)
    post = await _ok(
        client,
        "POST",
        "/creator/content/posts",
        owner,
        json={"text": "the full recipe", "access": "ppv", "price_stars": 50, "publish": True},
    )
    gold = await _ok(
        client, "POST", "/creator/vip/packages", owner, json={"name": "Gold", "price_stars": 300}
    )
    for kind, item, ton_price in (("ppv", post["id"], "1.5"), ("vip", gold["id"], "4")):
        await _ok(
            client,
            "PUT",
            "/creator/ton/prices",
            owner,
            json={"kind": kind, "item_id": item, "amount_ton": ton_price},
        )

    await _pay(client, ton, fan, "ppv", post["id"])
    await _pay(client, ton, fan, "vip", gold["id"])
    assert (await _ok(client, "GET", f"/feed/{post['id']}", fan))["locked"]
    assert (await watch_ton_payments(ctx))["outcomes"] == {"paid": 2}

    opened = await _ok(client, "GET", f"/feed/{post['id']}", fan)
    assert not opened["locked"] and opened["text_html"] == "the full recipe"
    [package] = (await _ok(client, "GET", "/vip", fan))["packages"]
    subscription = package["subscription"]
    assert subscription["is_open"] and subscription["status"] == "active"
    assert subscription["renews"] is False  # TON has no subscriptions: one paid period
    assert (await watch_ton_payments(ctx))["outcomes"] == {}  # nothing is granted twice

    # A free post is not for sale, in TON or otherwise.
    free = await _ok(
        client, "POST", "/creator/content/posts", owner, json={"text": "hi", "publish": True}
    )
    refused = await client.post(
        "/api/v1/ton/invoices",
        json={"kind": "ppv", "item_id": free["id"]},
        headers=fan.headers,
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_for_sale"
