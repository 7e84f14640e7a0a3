"""Paying in TON from the browser, on the TON stand-in's chain: the creator prices a credit
pack in TON in the panel; a fan links their wallet, taps "Pay with TON", the wallet signs the
invoice's transfer (with its comment) and sends it; the watcher reads the chain and credits the
pack once; the fan's balance and the creator's TON earnings show it."""

from __future__ import annotations

from typing import Any

import httpx
from arq.connections import ArqRedis

from devtools.ton import TonSettings, running_ton
from jobs.ton.tasks import watch_ton_payments
from tests.jobs.conftest import arq_redis  # noqa: F401 - the fixture
from tests.webapp.conftest import BROWSER, OpenApp
from tests.webapp.ton import TON, connect_wallet

pytestmark = BROWSER


async def test_pay_a_credit_pack_with_ton(open_app: OpenApp, arq_redis: ArqRedis) -> None:  # noqa: F811
    async with running_ton(TonSettings()) as (ton_url, ton):
        merchant = await ton.create_wallet(version="v4r2", balance=TON, label="merchant")
        fan_wallet = await ton.create_wallet(version="v4r2", balance=10 * TON)
        creator = await open_app(owner=True)
        platform = creator.platform
        settings = platform.settings.model_copy(
            update={"ton_api_base": ton_url, "ton_merchant_address": merchant.non_bounceable}
        )
        platform.app.state.settings = settings

        headers = {"Authorization": f"Bearer {await creator.token()}"}
        async with httpx.AsyncClient(base_url=platform.api_url, headers=headers) as api:
            packs = (await api.get("/api/v1/wallet/packs")).json()["packs"]
        pack = packs[0]
        page = creator.page
        await page.get_by_test_id("tab-creator").click()
        await page.get_by_test_id("section-ton").click()
        prices = page.get_by_test_id("ton-prices")
        # The TON section is a chunk of its own, loaded on first open: on a busy CI machine
        # (two test workers, two browsers) that once took longer than the default 10 s.
        await prices.wait_for(timeout=30_000)
        await prices.locator("select").select_option("credits")
        await prices.get_by_placeholder("Item id").fill(str(pack["id"]))
        await prices.get_by_placeholder("1.5").fill("1.5")
        await prices.get_by_role("button", name="Set price").click()
        await prices.get_by_text("1.5 TON").wait_for()

        fan = await open_app(bot_of=creator.fan, credits=0)
        fp = fan.page
        await fp.get_by_test_id("tab-wallet").click()
        await fp.get_by_test_id("balance").filter(has_text="0").wait_for()
        await connect_wallet(fan, ton_url, ton, fan_wallet)
        await ton.set_policy(fan_wallet, "approve")
        pay = fp.get_by_test_id("packs").get_by_test_id("pay-ton").first
        await pay.filter(has_text="1.5 TON").click()
        for _ in range(150):  # the wallet signs the invoice's transfer and sends it
            if (await ton.account(merchant.address)).balance > TON:
                break
            await fp.wait_for_timeout(100)
        assert (await ton.account(merchant.address)).balance > 2.4 * TON

        await ton.produce_blocks(finalize=True)
        ctx: dict[str, Any] = {
            "settings": settings,
            "session_factory": platform.session_factory,
            "redis": arq_redis,
            "ton_client_options": {"backoff_base": 0.01, "backoff_cap": 0.05, "max_retries": 8},
        }
        run = await watch_ton_payments(ctx)
        assert run["outcomes"] == {"paid": 1}, run
        credits = str(pack["total_credits"])
        await fp.get_by_text("TON payment confirmed").wait_for(timeout=20_000)
        await fp.get_by_test_id("balance").filter(has_text=credits).wait_for(timeout=15_000)
        await fan.screenshot("wallet-ton-paid")
        assert (await watch_ton_payments(ctx))["outcomes"] == {}  # once

        await page.reload()
        await page.get_by_test_id("ton-available").filter(has_text="TON").wait_for()
        available = await page.get_by_test_id("ton-available").inner_text()
        assert "1.425" in available, available  # 1.5 TON minus the 5 % platform fee
        await creator.screenshot("creator-ton")
        assert not creator.errors and not fan.errors, (creator.errors, fan.errors)
