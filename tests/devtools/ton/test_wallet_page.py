"""The wallet page in headless Chromium: a person connects an app and approves its payment."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from pytonconnect import TonConnect
from pytonconnect.storage import DefaultStorage

from devtools.ton import comment_boc_b64
from tests.devtools.ton.conftest import TON, Ton

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


async def test_a_person_plays_the_wallet(ton: Ton) -> None:
    from playwright.async_api import async_playwright

    merchant = await ton.client.create_wallet(label="merchant")
    connector = TonConnect(manifest_url=ton.client.demo_manifest_url, storage=DefaultStorage())
    link = await connector.connect(ton.client.pytonconnect_wallet(), {"ton_proof": "nonce-1"})
    connected = connector.wait_for_connection()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(8000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(link)  # the universal link points at the page: it is prefilled
            await page.get_by_placeholder("label (optional)").fill("my wallet")
            await page.get_by_role("button", name="Create wallet with 100 TON").click()
            await page.get_by_text("my wallet (v4r2)").wait_for()
            await page.get_by_role("button", name="Connect", exact=True).click()
            await page.get_by_text("connected to").wait_for()
            wallet = await asyncio.wait_for(connected, 10)
            assert wallet.ton_proof.payload == "nonce-1"

            message = {
                "address": merchant.non_bounceable,
                "amount": str(3 * TON),
                "payload": comment_boc_b64("inv-page"),
            }
            request = {"valid_until": int(time.time()) + 300, "messages": [message]}
            paying = asyncio.create_task(connector.send_transaction(request))
            await page.get_by_text("inv-page").wait_for()
            await page.get_by_role("button", name="Approve").click()
            answer = await asyncio.wait_for(paying, 10)
            assert answer["boc"]
            assert errors == []
        finally:
            connector.pause_connection()
            await browser.close()
    assert (await ton.client.account(merchant)).balance > 2.99 * TON
