"""Driving TON Connect UI in the browser against the TON stand-in: its wallet list instead of
the public one (no internet here), and the stand-in's test wallet answering the universal link
the page shows, through the stand-in's bridge."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from devtools.ton import TonClient, WalletInfo
from devtools.ton.tonconnect import APP_NAME
from tests.webapp.conftest import MiniApp

TON = 1_000_000_000


def universal_link(ton_url: str, client_id: str, manifest_url: str, payload: str) -> str:
    """The link TON Connect UI shows as a QR code for an HTTP-bridge wallet."""
    request = {
        "manifestUrl": manifest_url,
        "items": [{"name": "ton_addr"}, {"name": "ton_proof", "payload": payload}],
    }
    return f"{ton_url}/wallet?v=2&id={client_id}&r={quote(json.dumps(request))}&ret=none"


async def offline_wallet_list(page: Any, ton_url: str) -> None:
    """The wallets list TON Connect UI fetches is the stand-in's (one test wallet whose bridge
    is the stand-in); every other outside request fails at once."""
    async with httpx.AsyncClient() as client:
        wallets = (await client.get(f"{ton_url}/tonconnect/wallets-v2.json")).json()
    context = page.context
    await context.route(re.compile(r"^https://(?!t\.me/)"), lambda route: route.abort())
    await context.route(
        "https://config.ton.org/wallets-v2.json",
        lambda route: route.fulfill(json=wallets, headers={"Access-Control-Allow-Origin": "*"}),
    )


async def connect_wallet(
    app: MiniApp, ton_url: str, ton: TonClient, wallet: WalletInfo, screenshot: str | None = None
) -> None:
    """On the wallet screen: tap Connect, pick the test wallet in TON Connect UI's list, and
    let the wallet answer the universal link (with a signed proof of the page's payload)."""
    page = app.page
    await offline_wallet_list(page, ton_url)
    bridge_sessions: list[str] = []
    page.on(
        "request",
        lambda request: (
            bridge_sessions.append(request.url) if "/bridge/events" in request.url else None
        ),
    )
    card = page.get_by_test_id("ton-wallet")
    async with page.expect_response("**/api/v1/ton/proof-payload") as issued:
        await card.get_by_test_id("ton-connect").click()
    payload = (await (await issued.value).json())["payload"]
    await page.get_by_text(APP_NAME).first.click()  # the wallet in TON Connect UI's list
    for _ in range(100):
        if bridge_sessions:
            break
        await page.wait_for_timeout(50)
    assert bridge_sessions, "TON Connect UI opened no bridge session"
    client_id = parse_qs(urlsplit(bridge_sessions[-1]).query)["client_id"][0]
    if screenshot:
        await app.screenshot(screenshot)
    manifest = f"{app.platform.api_url}/tonconnect-manifest.json"
    answered = await ton.connect(wallet, universal_link(ton_url, client_id, manifest, payload))
    assert answered.event["event"] == "connect", answered.event
    await card.get_by_test_id("ton-address").wait_for(timeout=15_000)
