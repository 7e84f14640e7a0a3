"""The watcher's recording on SQLite (``atelier dev``): the cursor row, the multi-row insert with
``ON CONFLICT DO NOTHING RETURNING`` and the ledger credit behave as on PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from core import ledger
from core import models as _models  # noqa: F401 - registers every table on Base.metadata
from core.db import create_session_factory, session_scope
from core.models import CreditPack, Tenant, TonInvoice, User
from core.settings import Settings
from core.ton.address import parse_address
from core.ton.transactions import parse_transaction
from tenants.ton import invoices, payments_repository, watcher
from tests.core.ton import v3_samples as v3


async def test_pay_once_on_sqlite(sqlite_engine: AsyncEngine) -> None:
    factory = create_session_factory(sqlite_engine)
    settings = Settings(ton_merchant_address=v3.MERCHANT, database_url="sqlite+aiosqlite://")
    async with session_scope(factory) as s:
        tenant = Tenant(name="dev")
        s.add(tenant)
        await s.flush()
        user = User(tenant_id=tenant.id, telegram_id=42)
        pack = CreditPack(tenant_id=tenant.id, stars=50, credits=70, bonus=0)
        s.add_all([user, pack])
        await s.flush()
        await invoices.set_price(s, tenant.id, kind="credits", item_id=pack.id, amount=10**9)
        invoice = await invoices.create_invoice(
            s, settings, tenant_id=tenant.id, user_id=user.id, kind="credits", item_id=pack.id
        )
    page = [
        parse_transaction(
            v3.transaction(47_000_000_000_100, amount=10**9, comment=invoice.comment)
        ),
        parse_transaction(v3.transaction(47_000_000_000_101, comment="hello")),
    ]
    merchant = parse_address(v3.MERCHANT)
    for _ in range(2):  # the second time: a re-read page, nothing new
        result = watcher.PageResult()
        async with session_scope(factory) as s:
            cursor = await payments_repository.lock_cursor(s, merchant.raw)
            await watcher.record(s, merchant, page, fee_bps=0, now=None, result=result)
            cursor.last_lt = page[-1].lt
    async with session_scope(factory) as s:
        paid = await s.get(TonInvoice, invoice.id)
        assert paid is not None and paid.status == "paid"
        assert (await ledger.user_balance(s, tenant.id, user.id)).available == 70
        cursor = await payments_repository.lock_cursor(s, merchant.raw)
        assert cursor.last_lt == 47_000_000_000_101
    assert result.recorded == 0 and not result.outcomes
