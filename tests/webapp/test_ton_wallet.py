"""Linking a TON wallet in the browser, end to end through the TON stand-in: the page gets a
proof payload from our API, TON Connect UI (lazy-loaded) opens a session on the stand-in's
bridge, the stand-in's test wallet answers the universal link with a signed ``ton_proof``, the
page posts it to ``/api/v1/ton/wallet`` where it is verified, and the linked address shows;
disconnecting forgets it."""

from __future__ import annotations

import httpx

from devtools.ton import TonSettings, running_ton
from tests.webapp.conftest import BROWSER, OpenApp
from tests.webapp.ton import TON, connect_wallet

pytestmark = BROWSER


async def test_connect_a_wallet_with_a_verified_proof(open_app: OpenApp) -> None:
    async with running_ton(TonSettings()) as (ton_url, ton):
        wallet = await ton.create_wallet(version="v4r2", balance=5 * TON)
        app = await open_app()
        page = app.page
        await page.get_by_test_id("tab-wallet").click()
        card = page.get_by_test_id("ton-wallet")
        await card.get_by_test_id("ton-connect").wait_for()
        await connect_wallet(app, ton_url, ton, wallet, screenshot="ton-connect-modal")
        shown = await card.get_by_test_id("ton-address").inner_text()
        assert shown.startswith(wallet.non_bounceable[:6]), (shown, wallet.non_bounceable)
        assert shown.endswith(wallet.non_bounceable[-6:])
        await app.screenshot("ton-wallet-linked")

        headers = {"Authorization": f"Bearer {await app.token()}"}
        async with httpx.AsyncClient(base_url=app.platform.api_url, headers=headers) as api:
            linked = await api.get("/api/v1/ton/wallet")
            assert linked.json()["wallet"]["address"] == wallet.non_bounceable
            await card.get_by_test_id("ton-disconnect").click()
            await card.get_by_test_id("ton-connect").wait_for()
            assert (await api.get("/api/v1/ton/wallet")).json()["wallet"] is None
        assert not app.errors, app.errors
