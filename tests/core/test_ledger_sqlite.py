"""The credit ledger on SQLite (``atelier dev``): the same rules through the two-statement path."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import ledger
from core import models as _models  # noqa: F401 - registers every table on Base.metadata
from core.db import create_session_factory, session_scope
from core.errors import ConflictError, InsufficientFundsError, ValidationError
from core.models import Tenant, User

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def fan(sqlite_engine: AsyncEngine) -> tuple[Factory, int, int]:
    factory = create_session_factory(sqlite_engine)
    async with session_scope(factory) as s:
        tenant = Tenant(name="dev")
        s.add(tenant)
        await s.flush()
        user = User(tenant_id=tenant.id, telegram_id=42)
        s.add(user)
        await s.flush()
        account = await ledger.get_or_create_account(s, tenant.id, user_id=user.id)
        assert (await ledger.get_or_create_account(s, tenant.id, user_id=user.id)) == account
        await ledger.credit(s, tenant.id, account.id, 1000, idempotency_key="seed")
    return factory, tenant.id, account.id


async def test_basic_flows(fan: tuple[Factory, int, int]) -> None:
    factory, tenant_id, account_id = fan
    async with session_scope(factory) as s:
        d = await ledger.debit(s, tenant_id, account_id, 100, idempotency_key="d1", meta={"a": 1})
        assert (d.balance_after, d.replayed) == (900, False)
        hold = await ledger.reserve(s, tenant_id, account_id, 300, idempotency_key="h1")
        assert hold.available_after == 600
        cap = await ledger.capture(s, tenant_id, hold.entry_id, 120, idempotency_key="c1")
        assert (cap.balance_after, cap.reserved_after) == (780, 0)
        hold2 = await ledger.reserve(s, tenant_id, account_id, 80, idempotency_key="h2")
        rel = await ledger.release(s, tenant_id, hold2.entry_id, idempotency_key="r2")
        assert (rel.balance_after, rel.reserved_after) == (780, 0)
        platform = await ledger.get_or_create_account(s, tenant_id)
        await ledger.credit(s, tenant_id, platform.id, 120, idempotency_key="fee")
    async with factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(780, 0, 780)
        assert await ledger.find_balance_mismatches(s) == []
        totals = await ledger.ledger_totals(s)
        assert totals.consistent and (totals.accounts, totals.entries) == (2, 7)


async def test_replays_conflicts_and_refusals(fan: tuple[Factory, int, int]) -> None:
    factory, tenant_id, account_id = fan
    async with session_scope(factory) as s:
        first = await ledger.debit(s, tenant_id, account_id, 100, idempotency_key="k")
        again = await ledger.debit(s, tenant_id, account_id, 100, idempotency_key="k")
        assert again.replayed and again.entry_id == first.entry_id and again.balance_after == 900
        with pytest.raises(ConflictError):
            await ledger.debit(s, tenant_id, account_id, 99, idempotency_key="k")
        with pytest.raises(InsufficientFundsError):
            await ledger.debit(s, tenant_id, account_id, 901, idempotency_key="big")
        with pytest.raises(ValidationError):
            await ledger.debit(s, tenant_id, account_id, 0, idempotency_key="zero")
        hold = await ledger.reserve(s, tenant_id, account_id, 50, idempotency_key="h")
        with pytest.raises(ValidationError):
            await ledger.capture(s, tenant_id, hold.entry_id, 51, idempotency_key="c")
        await ledger.release(s, tenant_id, hold.entry_id, idempotency_key="r")
        with pytest.raises(ConflictError):
            await ledger.capture(s, tenant_id, hold.entry_id, idempotency_key="c")
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(900, 0, 900)
    result = await ledger.commit_now(
        factory.kw["bind"], ledger.debit, tenant_id, account_id, 900, idempotency_key="all"
    )
    assert result.balance_after == 0
    async with factory() as s:
        assert await ledger.find_balance_mismatches(s) == []


async def test_check_constraint_and_mismatch(fan: tuple[Factory, int, int]) -> None:
    factory, tenant_id, account_id = fan
    with pytest.raises(IntegrityError):
        async with session_scope(factory) as s:
            await s.execute(
                text("UPDATE ledger_accounts SET balance = -1 WHERE id = :id"), {"id": account_id}
            )
    async with session_scope(factory) as s:
        await s.execute(
            text("UPDATE ledger_accounts SET balance = 7 WHERE id = :id"), {"id": account_id}
        )
    async with factory() as s:
        assert await ledger.find_balance_mismatches(s, tenant_id) == [
            ledger.BalanceMismatch(account_id, tenant_id, 7, 0, 1000, 0)
        ]
