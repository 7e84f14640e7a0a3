"""The wallet in the browser: balance and history, and buying a pack: the page asks the bot for
a Stars invoice link and opens it; the fan pays in (emulated) Telegram; the bot's payment
update credits the wallet and the page shows it without a reload."""

from __future__ import annotations

from tests.webapp.conftest import BROWSER, OpenApp

pytestmark = BROWSER


async def test_balance_history_and_buying_a_pack(open_app: OpenApp) -> None:
    app = await open_app(credits=100)
    page = app.page
    await page.get_by_test_id("tab-wallet").click()
    await page.get_by_test_id("balance").filter(has_text="100").wait_for()
    entry = page.get_by_test_id("entry").first
    await entry.filter(has_text="Added").filter(has_text="+100").wait_for()
    packs = page.get_by_test_id("packs")
    await packs.get_by_text("100 credits").wait_for()
    await app.screenshot("wallet")

    # Outside Telegram openInvoice falls back to opening the link (a new tab).
    async with page.context.expect_page() as opened:
        await packs.get_by_test_id("buy").first.click()
    invoice = await opened.value
    link = invoice.url
    assert link.startswith("https://t.me/$"), link
    await invoice.close()
    await page.get_by_text("Finish the payment in Telegram").wait_for()

    paid = await app.platform.emulator.pay_invoice(app.fan.bot, app.fan.user, invoice_link=link)
    assert paid.status == "paid", paid
    await page.get_by_test_id("balance").filter(has_text="200").wait_for(timeout=15_000)
    await page.get_by_test_id("entry").first.filter(has_text="+100").wait_for()
    assert await page.get_by_test_id("entry").count() == 2
    await app.screenshot("wallet-paid")
    assert not app.errors, app.errors
