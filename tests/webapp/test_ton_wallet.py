"""Linking a TON wallet in the browser, end to end through the TON stand-in: the page gets a
proof payload from our API, TON Connect UI (lazy-loaded) opens a session on the stand-in's
bridge, the stand-in's test wallet answers the universal link with a signed ``ton_proof``, the
page posts it to ``/api/v1/ton/wallet`` where it is verified, and the linked address shows;
disconnecting forgets it."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from devtools.ton import TonSettings, running_ton
from devtools.ton.tonconnect import APP_NAME
from tests.webapp.conftest import BROWSER, OpenApp

pytestmark = BROWSER

TON = 1_000_000_000


def universal_link(ton_url: str, client_id: str, manifest_url: str, payload: str) -> str:
    """The link TON Connect UI shows as a QR code for an HTTP-bridge wallet."""
    request = {
        "manifestUrl": manifest_url,
        "items": [{"name": "ton_addr"}, {"name": "ton_proof", "payload": payload}],
    }
    return f"{ton_url}/wallet?v=2&id={client_id}&r={quote(json.dumps(request))}&ret=none"


async def offline_wallet_list(page: Any, ton_url: str) -> None:
    """No internet here: the wallets list TON Connect UI fetches is the stand-in's (one test
    wallet whose bridge is the stand-in), and every other outside request fails at once."""
    async with httpx.AsyncClient() as client:
        wallets = (await client.get(f"{ton_url}/tonconnect/wallets-v2.json")).json()
    context = page.context
    await context.route(re.compile(r"^https://(?!t\.me/)"), lambda route: route.abort())
    await context.route(
        "https://config.ton.org/wallets-v2.json",
        lambda route: route.fulfill(json=wallets, headers={"Access-Control-Allow-Origin": "*"}),
    )


async def test_connect_a_wallet_with_a_verified_proof(open_app: OpenApp) -> None:
    async with running_ton(TonSettings()) as (ton_url, ton):
        wallet = await ton.create_wallet(version="v4r2", balance=5 * TON)
        app = await open_app()
        page = app.page
        await offline_wallet_list(page, ton_url)
        bridge_sessions: list[str] = []
        page.on(
            "request",
            lambda request: (
                bridge_sessions.append(request.url) if "/bridge/events" in request.url else None
            ),
        )
        await page.get_by_test_id("tab-wallet").click()
        card = page.get_by_test_id("ton-wallet")
        await card.get_by_test_id("ton-connect").wait_for()
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
        await app.screenshot("ton-connect-modal")

        link = universal_link(
            ton_url, client_id, f"{app.platform.api_url}/tonconnect-manifest.json", payload
        )
        answered = await ton.connect(wallet, link)
        assert answered.event["event"] == "connect", answered.event
        address = card.get_by_test_id("ton-address")
        await address.wait_for(timeout=15_000)
        shown = await address.inner_text()
        assert shown.startswith(wallet.non_bounceable[:6]), (shown, wallet.non_bounceable)
        assert shown.endswith(wallet.non_bounceable[-6:])
        await app.screenshot("ton-wallet-linked")

        async with httpx.AsyncClient(base_url=app.platform.api_url) as api:
            token = await app.token()
            linked = await api.get(
                "/api/v1/ton/wallet", headers={"Authorization": f"Bearer {token}"}
            )
            assert linked.json()["wallet"]["address"] == wallet.non_bounceable

            await card.get_by_test_id("ton-disconnect").click()
            await card.get_by_test_id("ton-connect").wait_for()
            gone = await api.get("/api/v1/ton/wallet", headers={"Authorization": f"Bearer {token}"})
            assert gone.json()["wallet"] is None
        assert not app.errors, app.errors
