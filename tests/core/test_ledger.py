"""The credit ledger on PostgreSQL: movements, idempotency, races, constraints, reconciliation."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import asyncpg.transaction
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import ledger
from core.db import session_scope
from core.errors import ConflictError, InsufficientFundsError, NotFoundError, ValidationError
from core.ledger import AccountKind, EntryKind
from core.models import LedgerAccount, LedgerEntry, Tenant, User

Factory = async_sessionmaker[AsyncSession]


async def _tenant_and_user(factory: Factory, telegram_id: int = 1001) -> tuple[int, int]:
    async with session_scope(factory) as s:
        tenant = Tenant(name="creator")
        s.add(tenant)
        await s.flush()
        user = User(tenant_id=tenant.id, telegram_id=telegram_id, first_name="Fan")
        s.add(user)
        await s.flush()
        return tenant.id, user.id


@pytest.fixture
async def fan(session_factory: Factory) -> tuple[int, int]:
    """(tenant_id, account_id) of a fan account holding 1000 credits, committed."""
    tenant_id, user_id = await _tenant_and_user(session_factory)
    async with session_scope(session_factory) as s:
        account = await ledger.get_or_create_account(s, tenant_id, user_id=user_id)
        await ledger.credit(s, tenant_id, account.id, 1000, idempotency_key="seed")
    return tenant_id, account.id


async def _entry_sum(s: AsyncSession, account_id: int) -> tuple[int, int, int]:
    row = (
        await s.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.amount), 0),
                func.coalesce(func.sum(LedgerEntry.reserved_delta), 0),
                func.count(),
            ).where(LedgerEntry.account_id == account_id)
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def _assert_consistent(factory: Factory) -> None:
    async with factory() as s:
        assert await ledger.find_balance_mismatches(s) == []
        totals = await ledger.ledger_totals(s)
        assert totals.consistent, totals


# -- accounts ----------------------------------------------------------------------------------


async def test_get_or_create_account_is_idempotent_and_race_free(session_factory: Factory) -> None:
    tenant_id, user_id = await _tenant_and_user(session_factory)

    async def create() -> ledger.Account:
        async with session_scope(session_factory) as s:
            return await ledger.get_or_create_account(s, tenant_id, user_id=user_id)

    accounts = await asyncio.gather(*(create() for _ in range(8)))
    assert len({a.id for a in accounts}) == 1
    assert accounts[0].kind is AccountKind.FAN
    async with session_scope(session_factory) as s:
        platform = await ledger.get_or_create_account(s, tenant_id)
        again = await ledger.get_or_create_account(s, tenant_id, kind=AccountKind.TENANT)
        assert platform.kind is AccountKind.TENANT and platform.user_id is None
        assert again.id == platform.id != accounts[0].id
        count = await s.scalar(select(func.count()).select_from(LedgerAccount))
        assert count == 2
        assert await ledger.balance_of(s, tenant_id, platform.id) == ledger.Balance(0, 0, 0)


async def test_tenant_account_is_unique_despite_null_user(session_factory: Factory) -> None:
    """owner_key makes (tenant, kind, owner) unique even for the tenant's own account."""
    tenant_id, _ = await _tenant_and_user(session_factory)
    async with session_scope(session_factory) as s:
        await ledger.get_or_create_account(s, tenant_id)
    with pytest.raises(IntegrityError):
        async with session_scope(session_factory) as s:
            s.add(LedgerAccount(tenant_id=tenant_id, kind=AccountKind.TENANT, owner_key=0))
            await s.flush()
    with pytest.raises(IntegrityError):  # owner_key must follow user_id
        async with session_scope(session_factory) as s:
            s.add(LedgerAccount(tenant_id=tenant_id, kind=AccountKind.TENANT, owner_key=7))
            await s.flush()


async def test_account_for_a_user_of_another_tenant_is_not_found(session_factory: Factory) -> None:
    tenant_a, _ = await _tenant_and_user(session_factory, telegram_id=1)
    _, user_b = await _tenant_and_user(session_factory, telegram_id=2)
    async with session_scope(session_factory) as s:
        with pytest.raises(NotFoundError):
            await ledger.get_or_create_account(s, tenant_a, user_id=user_b)
        with pytest.raises(ValidationError):
            await ledger.get_or_create_account(s, tenant_a, kind=AccountKind.FAN)
        with pytest.raises(ValidationError):
            await ledger.get_or_create_account(s, tenant_a, user_id=user_b, kind="tenant")  # type: ignore[arg-type]


async def test_other_tenant_cannot_touch_an_account(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    _, account_id = fan
    other_tenant, _ = await _tenant_and_user(session_factory, telegram_id=77)
    async with session_scope(session_factory) as s:
        with pytest.raises(NotFoundError):
            await ledger.debit(s, other_tenant, account_id, 1, idempotency_key="x")
        with pytest.raises(NotFoundError):
            await ledger.credit(s, other_tenant, account_id, 1, idempotency_key="y")
        with pytest.raises(NotFoundError):
            await ledger.balance_of(s, other_tenant, account_id)


# -- happy paths -------------------------------------------------------------------------------


async def test_credit_and_debit(session_factory: Factory, fan: tuple[int, int]) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        c = await ledger.credit(
            s, tenant_id, account_id, 500, idempotency_key="stars:1", reason="Stars", meta={"x": 1}
        )
        assert (c.kind, c.amount, c.balance_after, c.replayed) == (
            EntryKind.CREDIT,
            500,
            1500,
            False,
        )
        d = await ledger.debit(s, tenant_id, account_id, 300, idempotency_key="gen:1")
        assert (d.kind, d.amount, d.balance_after, d.available_after) == (
            EntryKind.DEBIT,
            -300,
            1200,
            1200,
        )
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(1200, 0, 1200)
        entry = await s.get_one(LedgerEntry, c.entry_id)
        assert (entry.reason, entry.meta, entry.balance_after) == ("Stars", {"x": 1}, 1500)
        assert entry.created_at.tzinfo is not None
        assert await _entry_sum(s, account_id) == (1200, 0, 3)
    await _assert_consistent(session_factory)


async def test_reserve_capture_release(session_factory: Factory, fan: tuple[int, int]) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        hold = await ledger.reserve(s, tenant_id, account_id, 400, idempotency_key="job:1:hold")
        assert (hold.balance_after, hold.reserved_after, hold.available_after) == (1000, 400, 600)
        other = await ledger.reserve(s, tenant_id, account_id, 100, idempotency_key="job:2:hold")
        # Reserved credits are not available to a debit.
        with pytest.raises(InsufficientFundsError):
            await ledger.debit(s, tenant_id, account_id, 501, idempotency_key="too-much")
        cap = await ledger.capture(s, tenant_id, hold.entry_id, 250, idempotency_key="job:1:done")
        assert (cap.kind, cap.amount, cap.reserved_delta) == (EntryKind.CAPTURE, -250, -400)
        assert (cap.balance_after, cap.reserved_after) == (750, 100)
        rel = await ledger.release(s, tenant_id, other.entry_id, idempotency_key="job:2:fail")
        assert (rel.kind, rel.amount, rel.reserved_delta) == (EntryKind.RELEASE, 0, -100)
        assert (rel.balance_after, rel.reserved_after) == (750, 0)
        full = await ledger.reserve(s, tenant_id, account_id, 50, idempotency_key="job:3:hold")
        whole = await ledger.capture(s, tenant_id, full.entry_id, idempotency_key="job:3:done")
        assert (whole.amount, whole.balance_after, whole.reserved_after) == (-50, 700, 0)
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(700, 0, 700)
        assert await _entry_sum(s, account_id) == (700, 0, 7)
    await _assert_consistent(session_factory)


async def test_user_balance(session_factory: Factory, fan: tuple[int, int]) -> None:
    tenant_id, account_id = fan
    async with session_factory() as s:
        account = await s.get_one(LedgerAccount, account_id)
        assert account.user_id is not None
        assert await ledger.user_balance(s, tenant_id, account.user_id) == ledger.Balance(
            1000, 0, 1000
        )
        assert await ledger.user_balance(s, tenant_id, 999_999) == ledger.Balance(0, 0, 0)


# -- refusals ----------------------------------------------------------------------------------


async def test_insufficient_funds_moves_nothing(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        with pytest.raises(InsufficientFundsError) as info:
            await ledger.debit(s, tenant_id, account_id, 1001, idempotency_key="big")
        assert info.value.details["available"] == 1000
        with pytest.raises(InsufficientFundsError):
            await ledger.reserve(s, tenant_id, account_id, 1001, idempotency_key="big-hold")
        # The transaction is still usable and the refused key still free.
        ok = await ledger.debit(s, tenant_id, account_id, 1000, idempotency_key="big")
        assert ok.balance_after == 0
    async with session_factory() as s:
        assert await _entry_sum(s, account_id) == (0, 0, 2)


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True, None, ledger.MAX_AMOUNT + 1])
async def test_invalid_amounts(session_factory: Factory, fan: tuple[int, int], amount: Any) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        for move in (ledger.credit, ledger.debit, ledger.reserve):
            with pytest.raises(ValidationError):
                await move(s, tenant_id, account_id, amount, idempotency_key="k")
        hold = await ledger.reserve(s, tenant_id, account_id, 10, idempotency_key="hold")
        if amount is not None:
            with pytest.raises(ValidationError):
                await ledger.capture(s, tenant_id, hold.entry_id, amount, idempotency_key="cap")
    async with session_factory() as s:
        assert await _entry_sum(s, account_id) == (1000, 10, 2)


async def test_invalid_idempotency_keys(session_factory: Factory, fan: tuple[int, int]) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        for key in ("", "k" * 201):
            with pytest.raises(ValidationError):
                await ledger.credit(s, tenant_id, account_id, 1, idempotency_key=key)


async def test_capture_more_than_reserved_is_refused(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        hold = await ledger.reserve(s, tenant_id, account_id, 100, idempotency_key="hold")
        with pytest.raises(ValidationError):
            await ledger.capture(s, tenant_id, hold.entry_id, 101, idempotency_key="cap")
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(1000, 100, 900)
        spent = await ledger.debit(s, tenant_id, account_id, 1, idempotency_key="d")
        with pytest.raises(NotFoundError):  # a debit entry is not a reservation
            await ledger.capture(s, tenant_id, spent.entry_id, idempotency_key="cap2")
        with pytest.raises(NotFoundError):
            await ledger.release(s, tenant_id, 10**9, idempotency_key="rel")


async def test_reservation_is_settled_once(session_factory: Factory, fan: tuple[int, int]) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        hold = await ledger.reserve(s, tenant_id, account_id, 100, idempotency_key="hold")
        # Another hold keeps ``reserved`` high enough that only the settlement rule refuses.
        await ledger.reserve(s, tenant_id, account_id, 300, idempotency_key="hold-2")
        cap = await ledger.capture(s, tenant_id, hold.entry_id, 60, idempotency_key="cap")
        again = await ledger.capture(s, tenant_id, hold.entry_id, 60, idempotency_key="cap")
        assert again.replayed and again.entry_id == cap.entry_id
        assert again.balance_after == cap.balance_after == 940
        with pytest.raises(ConflictError):
            await ledger.capture(s, tenant_id, hold.entry_id, 60, idempotency_key="cap-other")
        with pytest.raises(ConflictError):
            await ledger.release(s, tenant_id, hold.entry_id, idempotency_key="rel")
        with pytest.raises(ConflictError):  # same key, other amount
            await ledger.capture(s, tenant_id, hold.entry_id, 50, idempotency_key="cap")
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(940, 300, 640)
    async with session_scope(session_factory) as s:
        hold = await ledger.reserve(s, tenant_id, account_id, 40, idempotency_key="hold-3")
        rel = await ledger.release(s, tenant_id, hold.entry_id, idempotency_key="rel-3")
        assert (await ledger.release(s, tenant_id, hold.entry_id, idempotency_key="rel-3")).replayed
        with pytest.raises(ConflictError):
            await ledger.capture(s, tenant_id, hold.entry_id, idempotency_key="cap-3")
        assert rel.reserved_after == 300
    await _assert_consistent(session_factory)


async def test_concurrent_settlements_of_one_reservation(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        hold = await ledger.reserve(s, tenant_id, account_id, 100, idempotency_key="hold")
        await ledger.reserve(s, tenant_id, account_id, 500, idempotency_key="hold-2")

    async def settle(i: int) -> str:
        try:
            async with session_scope(session_factory) as s:
                if i % 2:
                    await ledger.release(s, tenant_id, hold.entry_id, idempotency_key=f"s{i}")
                else:
                    await ledger.capture(s, tenant_id, hold.entry_id, 70, idempotency_key=f"s{i}")
            return "ok"
        except ConflictError:
            return "conflict"

    outcomes = await asyncio.gather(*(settle(i) for i in range(16)))
    assert outcomes.count("ok") == 1
    async with session_factory() as s:
        bal = await ledger.balance_of(s, tenant_id, account_id)
        assert bal.reserved == 500 and bal.balance in (1000, 930)
    await _assert_consistent(session_factory)


# -- idempotency -------------------------------------------------------------------------------


async def test_replay_returns_first_result_and_moves_nothing(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        first = await ledger.debit(s, tenant_id, account_id, 100, idempotency_key="gen:7")
    async with session_scope(session_factory) as s:
        await ledger.debit(s, tenant_id, account_id, 50, idempotency_key="gen:8")
        replay = await ledger.debit(s, tenant_id, account_id, 100, idempotency_key="gen:7")
    assert replay.replayed and not first.replayed
    assert replay.entry_id == first.entry_id
    assert replay.balance_after == first.balance_after == 900
    async with session_scope(session_factory) as s:
        # Even once the funds are gone, a replay still answers with the first result.
        await ledger.debit(s, tenant_id, account_id, 850, idempotency_key="drain")
        again = await ledger.debit(s, tenant_id, account_id, 100, idempotency_key="gen:7")
        assert again == replay
        seed = await ledger.credit(s, tenant_id, account_id, 1000, idempotency_key="seed")
        assert seed.replayed and seed.balance_after == 1000
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(0, 0, 0)
        assert await _entry_sum(s, account_id) == (0, 0, 4)


async def test_conflicting_replay(session_factory: Factory, fan: tuple[int, int]) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        platform = await ledger.get_or_create_account(s, tenant_id)
        await ledger.credit(s, tenant_id, platform.id, 5, idempotency_key="p")
        await ledger.debit(s, tenant_id, account_id, 100, idempotency_key="k")
        with pytest.raises(ConflictError):
            await ledger.debit(s, tenant_id, account_id, 101, idempotency_key="k")
        with pytest.raises(ConflictError):
            await ledger.debit(s, tenant_id, platform.id, 100, idempotency_key="k")
        with pytest.raises(ConflictError):
            await ledger.credit(s, tenant_id, account_id, 100, idempotency_key="k")
        with pytest.raises(ConflictError):
            await ledger.reserve(s, tenant_id, account_id, 100, idempotency_key="k")
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(900, 0, 900)
        assert await ledger.balance_of(s, tenant_id, platform.id) == ledger.Balance(5, 0, 5)


async def test_idempotency_keys_are_per_tenant(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    _, _ = fan
    other_tenant, other_user = await _tenant_and_user(session_factory, telegram_id=55)
    async with session_scope(session_factory) as s:
        account = await ledger.get_or_create_account(s, other_tenant, user_id=other_user)
        result = await ledger.credit(s, other_tenant, account.id, 7, idempotency_key="seed")
        assert not result.replayed and result.balance_after == 7


async def test_concurrent_replays_move_once(session_factory: Factory, fan: tuple[int, int]) -> None:
    tenant_id, account_id = fan

    async def attempt() -> ledger.LedgerResult:
        async with session_scope(session_factory) as s:
            return await ledger.debit(s, tenant_id, account_id, 100, idempotency_key="race")

    results = await asyncio.gather(*(attempt() for _ in range(24)))
    assert sum(not r.replayed for r in results) == 1
    assert len({r.entry_id for r in results}) == 1
    assert {r.balance_after for r in results} == {900}
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(900, 0, 900)
        assert await _entry_sum(s, account_id) == (900, 0, 2)
    await _assert_consistent(session_factory)


async def test_concurrent_replays_of_a_reservation(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan

    async def attempt() -> ledger.LedgerResult:
        async with session_scope(session_factory) as s:
            return await ledger.reserve(s, tenant_id, account_id, 300, idempotency_key="hold")

    results = await asyncio.gather(*(attempt() for _ in range(16)))
    assert sum(not r.replayed for r in results) == 1
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(1000, 300, 700)


# -- the race that matters ---------------------------------------------------------------------


async def test_64_concurrent_debits_never_overdraw(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    """Balance 1000, 64 writers each debit 20 in their own committed transaction."""
    tenant_id, account_id = fan
    gate = asyncio.Event()

    async def spend(i: int) -> bool:
        await gate.wait()
        try:
            async with session_scope(session_factory) as s:
                await ledger.debit(s, tenant_id, account_id, 20, idempotency_key=f"spend:{i}")
            return True
        except InsufficientFundsError:
            return False

    tasks = [asyncio.create_task(spend(i)) for i in range(64)]
    gate.set()
    outcomes = await asyncio.gather(*tasks)
    assert outcomes.count(True) == 50
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(0, 0, 0)
        assert await _entry_sum(s, account_id) == (0, 0, 51)
    await _assert_consistent(session_factory)


async def test_concurrent_mixed_movements_stay_consistent(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan

    async def job(i: int) -> None:
        try:
            async with session_scope(session_factory) as s:
                hold = await ledger.reserve(s, tenant_id, account_id, 30, idempotency_key=f"h{i}")
            async with session_scope(session_factory) as s:
                if i % 3:
                    await ledger.capture(s, tenant_id, hold.entry_id, 10, idempotency_key=f"c{i}")
                else:
                    await ledger.release(s, tenant_id, hold.entry_id, idempotency_key=f"r{i}")
        except InsufficientFundsError:
            pass

    await asyncio.gather(*(job(i) for i in range(40)))
    async with session_factory() as s:
        bal = await ledger.balance_of(s, tenant_id, account_id)
        assert bal.reserved == 0 and bal.balance == 1000 - 10 * sum(1 for i in range(40) if i % 3)
    await _assert_consistent(session_factory)


# -- the database holds the line on its own ----------------------------------------------------


async def _raw(factory: Factory, sql: str, **params: Any) -> None:
    async with session_scope(factory) as s:
        await s.execute(text(sql), params)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_accounts SET balance = balance - 1001 WHERE id = :id",
        "UPDATE ledger_accounts SET reserved = -1 WHERE id = :id",
        "UPDATE ledger_accounts SET reserved = balance + 1 WHERE id = :id",
    ],
)
async def test_check_constraints_hold_without_the_service(
    session_factory: Factory, fan: tuple[int, int], sql: str
) -> None:
    _, account_id = fan
    with pytest.raises(IntegrityError, match="ck_ledger_accounts_"):
        await _raw(session_factory, sql, id=account_id)
    async with session_factory() as s:
        assert (await s.get_one(LedgerAccount, account_id)).balance == 1000


async def test_entry_constraints(session_factory: Factory, fan: tuple[int, int]) -> None:
    tenant_id, account_id = fan
    other_tenant, _ = await _tenant_and_user(session_factory, telegram_id=9)

    def entry(**over: Any) -> LedgerEntry:
        values: dict[str, Any] = dict(
            tenant_id=tenant_id,
            account_id=account_id,
            kind=EntryKind.DEBIT,
            amount=-1,
            reserved_delta=0,
            balance_after=0,
            reserved_after=0,
            idempotency_key="raw",
            meta={},
        )
        values.update(over)
        return LedgerEntry(**values)

    bad = [
        entry(idempotency_key="seed"),  # key already used in this tenant
        entry(amount=5),  # a debit that adds
        entry(kind=EntryKind.CAPTURE, amount=-1, reserved_delta=-1),  # settles nothing
        entry(tenant_id=other_tenant),  # account of another tenant
    ]
    for row in bad:
        with pytest.raises(IntegrityError):
            async with session_scope(session_factory) as s:
                s.add(row)
                await s.flush()


# -- reconciliation ----------------------------------------------------------------------------


async def test_find_balance_mismatches(session_factory: Factory, fan: tuple[int, int]) -> None:
    tenant_id, account_id = fan
    other_tenant, other_user = await _tenant_and_user(session_factory, telegram_id=3)
    async with session_scope(session_factory) as s:
        other = await ledger.get_or_create_account(s, other_tenant, user_id=other_user)
        await ledger.credit(s, other_tenant, other.id, 10, idempotency_key="o")
        empty = await ledger.get_or_create_account(s, tenant_id)
        assert await ledger.find_balance_mismatches(s) == []
    async with session_scope(session_factory) as s:
        # Someone "fixes" a balance by hand, bypassing the ledger.
        await s.execute(
            update(LedgerAccount).where(LedgerAccount.id == account_id).values(balance=1200)
        )
        await s.execute(
            update(LedgerAccount).where(LedgerAccount.id == empty.id).values(balance=5, reserved=5)
        )
    async with session_factory() as s:
        found = await ledger.find_balance_mismatches(s)
        assert found == [
            ledger.BalanceMismatch(account_id, tenant_id, 1200, 0, 1000, 0),
            ledger.BalanceMismatch(empty.id, tenant_id, 5, 5, 0, 0),
        ]
        assert await ledger.find_balance_mismatches(s, other_tenant) == []
        assert len(await ledger.find_balance_mismatches(s, tenant_id)) == 2
        totals = await ledger.ledger_totals(s)
        assert not totals.consistent
        assert (totals.accounts, totals.entries, totals.balance, totals.entry_balance) == (
            3,
            2,
            1215,
            1010,
        )
        assert (await ledger.ledger_totals(s, other_tenant)).consistent


# -- the caller's transaction and commit_now ---------------------------------------------------


async def test_movements_roll_back_with_the_caller(
    session_factory: Factory, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan
    with pytest.raises(RuntimeError):
        async with session_scope(session_factory) as s:
            await ledger.reserve(s, tenant_id, account_id, 100, idempotency_key="job:9")
            raise RuntimeError("the job row could not be made")
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(1000, 0, 1000)
        assert await _entry_sum(s, account_id) == (1000, 0, 1)


async def test_commit_now(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan
    first = await ledger.commit_now(
        engine, ledger.debit, tenant_id, account_id, 30, idempotency_key="now:1"
    )
    assert (first.balance_after, first.replayed) == (970, False)
    # Committed for everyone as soon as it returns.
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(970, 0, 970)
    again = await ledger.commit_now(
        engine, ledger.debit, tenant_id, account_id, 30, idempotency_key="now:1"
    )
    assert again.replayed and again.entry_id == first.entry_id
    with pytest.raises(ConflictError):
        await ledger.commit_now(
            engine, ledger.debit, tenant_id, account_id, 31, idempotency_key="now:1"
        )
    with pytest.raises(InsufficientFundsError):
        await ledger.commit_now(
            engine, ledger.debit, tenant_id, account_id, 971, idempotency_key="now:2"
        )
    hold = await ledger.commit_now(
        engine, ledger.reserve, tenant_id, account_id, 70, idempotency_key="now:3"
    )
    done = await ledger.commit_now(
        engine, ledger.capture, tenant_id, hold.entry_id, 20, idempotency_key="now:4"
    )
    assert (done.balance_after, done.reserved_after) == (950, 0)
    with pytest.raises(ConflictError):
        await ledger.commit_now(
            engine, ledger.release, tenant_id, hold.entry_id, idempotency_key="now:5"
        )
    await _assert_consistent(session_factory)


async def test_commit_now_sends_no_commit(
    engine: AsyncEngine,
    session_factory: Factory,
    fan: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """commit_now runs the movement in autocommit: the server commits the statement itself,
    with no BEGIN/COMMIT round trips (a pool pre-ping may still open and roll back its own)."""
    tenant_id, account_id = fan
    commits: list[object] = []
    real = asyncpg.transaction.Transaction.commit

    async def spy(self: asyncpg.transaction.Transaction) -> None:
        commits.append(self)
        await real(self)

    monkeypatch.setattr(asyncpg.transaction.Transaction, "commit", spy)
    await ledger.commit_now(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key="a")
    assert commits == []
    async with session_scope(session_factory) as s:  # the spy does see ordinary commits
        await ledger.debit(s, tenant_id, account_id, 1, idempotency_key="b")
    assert len(commits) == 1


async def test_commit_now_races_on_one_account(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan

    async def spend(i: int) -> str:
        try:
            result = await ledger.commit_now(
                engine, ledger.debit, tenant_id, account_id, 20, idempotency_key=f"k{i % 70}"
            )
            return "replayed" if result.replayed else "moved"
        except InsufficientFundsError:
            return "refused"

    # 70 distinct keys, each sent twice at once: 50 move, 20 refused, replays move nothing.
    outcomes = await asyncio.gather(*(spend(i) for i in range(140)))
    assert outcomes.count("moved") == 50
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(0, 0, 0)
        assert await _entry_sum(s, account_id) == (0, 0, 51)
    await _assert_consistent(session_factory)


@pytest.mark.parametrize("via", ["session", "commit_now"])
async def test_replay_waiting_on_the_first_call_in_flight(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], via: str
) -> None:
    """The first call holds the row, uncommitted; the replay passes the key guard, waits on the
    row, then meets the committed key: it must undo itself and answer with the first result."""
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        platform = await ledger.get_or_create_account(s, tenant_id)
        await ledger.credit(s, tenant_id, platform.id, 50, idempotency_key="p")

    async def again(account: int, amount: int) -> ledger.LedgerResult:
        if via == "commit_now":
            return await ledger.commit_now(
                engine, ledger.debit, tenant_id, account, amount, idempotency_key="k"
            )
        async with session_scope(session_factory) as s:
            return await ledger.debit(s, tenant_id, account, amount, idempotency_key="k")

    async with session_factory() as first_session:
        first = await ledger.debit(first_session, tenant_id, account_id, 100, idempotency_key="k")
        replay = asyncio.create_task(again(account_id, 100))
        other = asyncio.create_task(again(platform.id, 10))  # same key, another account
        await asyncio.sleep(0.3)
        assert not replay.done() and not other.done()  # both wait on the first transaction
        await first_session.commit()
    result = await replay
    assert result.replayed and result.entry_id == first.entry_id and result.balance_after == 900
    with pytest.raises(ConflictError):
        await other
    async with session_factory() as s:
        assert await ledger.balance_of(s, tenant_id, account_id) == ledger.Balance(900, 0, 900)
        assert await ledger.balance_of(s, tenant_id, platform.id) == ledger.Balance(50, 0, 50)
    await _assert_consistent(session_factory)
