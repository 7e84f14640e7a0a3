"""Credit packs in the Mini App: listed in the fan's language, bought through a Stars invoice
link made by the tenant's bot, paid in the emulator, credited only by the bot's
``successful_payment`` update."""

from __future__ import annotations

from typing import Any

import httpx

from devtools.telegram.client import BotInfo, UserInfo
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform

# The bot tests' running platform (emulator + API served with its webhooks), reused here.
emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform


async def _api(
    platform: Platform, method: str, path: str, token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=platform.api_url, timeout=10) as client:
        return await client.request(method, f"/api/v1{path}", headers=headers)


async def _sign_in(platform: Platform, bot: BotInfo, fan: UserInfo) -> str:
    init_data = await platform.emulator.web_app_init_data(bot, fan)
    async with httpx.AsyncClient(base_url=platform.api_url, timeout=10) as client:
        response = await client.post(
            "/api/v1/auth/telegram", json={"bot_id": bot.id, "init_data": init_data}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def _json(platform: Platform, method: str, path: str, token: str) -> Any:
    response = await _api(platform, method, path, token)
    assert response.status_code == 200, response.text
    return response.json()


async def test_buy_a_pack_in_the_mini_app(platform: Platform) -> None:
    bot, _ = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    token = await _sign_in(platform, bot, alice)

    packs = (await _json(platform, "GET", "/wallet/packs", token))["packs"]
    assert [(p["title"], p["label"], p["stars"]) for p in packs] == [
        ("100 credits", "100 credits – 50 ⭐", 50),
        ("550 credits", "500 + 50 bonus credits – 250 ⭐", 250),
        ("1200 credits", "1200 credits – 500 ⭐", 500),
    ]
    assert (packs[1]["credits"], packs[1]["bonus"], packs[1]["total_credits"]) == (500, 50, 550)

    link = (await _json(platform, "POST", f"/wallet/packs/{packs[1]['id']}/invoice", token))[
        "invoice_link"
    ]
    assert link.startswith("https://")
    wallet = await _json(platform, "GET", "/wallet", token)
    assert wallet["balance"] == 0  # asking for a link credits nothing

    paid = await platform.emulator.pay_invoice(bot, alice, invoice_link=link)
    assert (paid.status, paid.amount) == ("paid", 250)
    receipt = (await platform.settled(bot, alice))[-1]
    assert receipt.text == (
        "Thank you! 550 credits were added for 250 ⭐.\nYour balance: 550 credits."
    )
    assert await _json(platform, "GET", "/wallet", token) == {
        "balance": 550,
        "reserved": 0,
        "available": 550,
    }
    entries = (await _json(platform, "GET", "/wallet/history", token))["entries"]
    assert [(e["kind"], e["amount"], e["reason"]) for e in entries] == [
        ("credit", 550, "stars purchase")
    ]

    # The same link again: its order is paid, so pre-checkout says no and nothing moves.
    again = await platform.emulator.pay_invoice(bot, alice, invoice_link=link)
    assert again.status == "declined"
    assert (await _json(platform, "GET", "/wallet", token))["balance"] == 550


async def test_packs_speak_the_fans_language(platform: Platform) -> None:
    bot, _ = await platform.add_tenant("Art Studio")
    boris = await platform.user("Boris", "ru")
    token = await _sign_in(platform, bot, boris)
    packs = (await _json(platform, "GET", "/wallet/packs", token))["packs"]
    assert [p["label"] for p in packs] == [
        "100 кредитов – 50 ⭐",
        "500 + 50 бонусных кредитов – 250 ⭐",
        "1200 кредитов – 500 ⭐",
    ]
    assert packs[1]["title"] == "550 кредитов"


async def test_unknown_and_foreign_packs_are_404(platform: Platform) -> None:
    first, _ = await platform.add_tenant("Art Studio")
    second, _ = await platform.add_tenant("Photo Lab")
    alice, carol = await platform.user("Alice"), await platform.user("Carol")
    alice_token = await _sign_in(platform, first, alice)
    carol_token = await _sign_in(platform, second, carol)
    foreign = (await _json(platform, "GET", "/wallet/packs", carol_token))["packs"][0]["id"]

    for pack_id in (foreign, 9_999_999):
        response = await _api(platform, "POST", f"/wallet/packs/{pack_id}/invoice", alice_token)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert (await _api(platform, "GET", "/wallet/packs")).status_code == 401
    assert (await _api(platform, "POST", f"/wallet/packs/{foreign}/invoice")).status_code == 401
