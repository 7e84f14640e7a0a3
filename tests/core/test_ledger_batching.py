"""Group commit of ``commit_now`` on PostgreSQL: many callers, one transaction, each its own answer.

Most tests first *hold the lane*: a blocker movement is stopped inside its statement, so every
movement submitted meanwhile lands in the next batch, in a known order.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from core import ledger
from core.db import create_engine, session_scope
from core.errors import ConflictError, InsufficientFundsError, NotFoundError
from core.ledger import repository as repo
from core.ledger.batching import Stats
from core.ledger.service import group_commit
from core.models import LedgerEntry, Tenant, User
from core.settings import Settings

Factory = async_sessionmaker[AsyncSession]
Hook = Callable[[AsyncConnection], Awaitable[None]]


@pytest.fixture
async def fan(session_factory: Factory) -> tuple[int, int]:
    """(tenant_id, account_id) of a fan account holding 1000 credits, committed."""
    async with session_scope(session_factory) as s:
        tenant = Tenant(name="creator")
        s.add(tenant)
        await s.flush()
        user = User(tenant_id=tenant.id, telegram_id=1001, first_name="Fan")
        s.add(user)
        await s.flush()
        account = await ledger.get_or_create_account(s, tenant.id, user_id=user.id)
        await ledger.credit(s, tenant.id, account.id, 1000, idempotency_key="seed")
    return tenant.id, account.id


class Hooks:
    """Run a coroutine right before the statement of the movement with a given key."""

    def __init__(self) -> None:
        self.before: dict[str, Hook] = {}
        self.released = asyncio.Event()

    def hold(self, key: str) -> None:
        """Stop the movement ``key`` inside its batch until :meth:`release`."""

        async def wait(_conn: AsyncConnection) -> None:
            await self.released.wait()

        self.before[key] = wait

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Hooks:
    """Hooks run before a movement's own statement, or before the pipeline of its batch (every
    statement of a pipelined batch goes to the server at once)."""
    found = Hooks()
    real = repo.apply_movement
    real_many = repo.apply_movements

    async def apply(conn: AsyncConnection, movement: repo.Movement, txn: repo.Txn) -> Any:
        hook = found.before.get(movement.idempotency_key)
        if hook is not None:
            await hook(conn)
        return await real(conn, movement, txn)

    async def apply_many(conn: AsyncConnection, movements: Sequence[repo.Movement]) -> Any:
        for movement in movements:
            hook = found.before.get(movement.idempotency_key)
            if hook is not None:
                await hook(conn)
        return await real_many(conn, movements)

    monkeypatch.setattr(repo, "apply_movement", apply)
    monkeypatch.setattr(repo, "apply_movements", apply_many)
    return found


@pytest.fixture
async def commit_trigger(engine: AsyncEngine) -> AsyncIterator[None]:
    """A deferred trigger that runs at COMMIT: a ``poison…`` entry fails the COMMIT, a ``slow…``
    entry makes it take 0.2 s longer."""
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "CREATE FUNCTION test_commit_hook() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF NEW.idempotency_key LIKE 'poison%' THEN"
            "   RAISE EXCEPTION 'poisoned commit: %', NEW.idempotency_key; END IF;"
            " IF NEW.idempotency_key LIKE 'slow%' THEN PERFORM pg_sleep(0.2); END IF;"
            " RETURN NULL; END $$"
        )
        await conn.exec_driver_sql(
            "CREATE CONSTRAINT TRIGGER test_commit_hook AFTER INSERT ON ledger_entries"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_commit_hook()"
        )
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DROP TRIGGER test_commit_hook ON ledger_entries")
            await conn.exec_driver_sql("DROP FUNCTION test_commit_hook()")


def _snapshot(engine: AsyncEngine) -> Stats:
    return copy.copy(group_commit.stats(engine))


async def _queued(engine: AsyncEngine, count: int) -> None:
    """Wait until ``count`` movements wait for the next batch."""
    for _ in range(500):
        if group_commit.queued(engine) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {group_commit.queued(engine)} of {count} movements queued")


async def _entries(factory: Factory, account_id: int) -> tuple[int, int]:
    async with factory() as s:
        row = (
            await s.execute(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0), func.count()).where(
                    LedgerEntry.account_id == account_id
                )
            )
        ).one()
    return int(row[0]), int(row[1])


async def _keys(factory: Factory, *keys: str) -> int:
    async with factory() as s:
        count = await s.scalar(select(func.count()).where(LedgerEntry.idempotency_key.in_(keys)))
    return int(count or 0)


async def _assert_consistent(factory: Factory) -> None:
    async with factory() as s:
        assert await ledger.find_balance_mismatches(s) == []
        assert (await ledger.ledger_totals(s)).consistent


async def _balance(factory: Factory, tenant_id: int, account_id: int) -> ledger.Balance:
    async with factory() as s:
        return await ledger.balance_of(s, tenant_id, account_id)


def _start(engine: AsyncEngine, move: Any, *args: Any, **kwargs: Any) -> asyncio.Task[Any]:
    return asyncio.create_task(ledger.commit_now(engine, move, *args, **kwargs))


async def _outcome(task: asyncio.Task[Any]) -> Any:
    try:
        return await task
    except Exception as error:
        return error


# -- the race that matters ---------------------------------------------------------------------


async def test_64_debits_on_one_account_never_overdraw(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int]
) -> None:
    """1000 credits, 64 writers × 20 through commit_now: exactly 50 move, 14 are refused."""
    tenant_id, account_id = fan
    before = _snapshot(engine)
    gate = asyncio.Event()

    async def spend(i: int) -> bool:
        await gate.wait()
        try:
            await ledger.commit_now(
                engine, ledger.debit, tenant_id, account_id, 20, idempotency_key=f"spend:{i}"
            )
            return True
        except InsufficientFundsError:
            return False

    tasks = [asyncio.create_task(spend(i)) for i in range(64)]
    gate.set()
    outcomes = await asyncio.gather(*tasks)
    assert outcomes.count(True) == 50 and outcomes.count(False) == 14
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(0, 0, 0)
    assert await _entries(session_factory, account_id) == (0, 51)
    await _assert_consistent(session_factory)
    after = group_commit.stats(engine)
    assert after.items - before.items == 64
    assert after.batches - before.batches < 64  # they did share transactions
    assert after.largest > 1
    assert group_commit.busy_lanes(engine) == 0  # every lane went away once drained


# -- idempotency inside and across batches -----------------------------------------------------


async def test_duplicate_keys_in_one_batch_and_across_batches(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    tenant_id, account_id = fan
    hooks.hold("blocker")
    blocker = _start(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key="blocker")
    await asyncio.sleep(0.05)
    dups = [
        _start(engine, ledger.debit, tenant_id, account_id, 100, idempotency_key="dup")
        for _ in range(5)
    ]
    other = _start(engine, ledger.debit, tenant_id, account_id, 10, idempotency_key="other")
    await _queued(engine, 6)
    before = _snapshot(engine)
    hooks.release()
    await blocker
    results = await asyncio.gather(*dups)
    assert [r.replayed for r in results] == [False, True, True, True, True]  # arrival order
    assert len({r.entry_id for r in results}) == 1
    assert {r.balance_after for r in results} == {899}
    assert (await other).balance_after == 889
    after = group_commit.stats(engine)
    # The blocker alone, then the six together, in one pipeline.
    assert (after.batches, after.items) == (before.batches + 2, before.items + 7)
    assert (after.pipelined, after.fallbacks) == (before.pipelined + 1, before.fallbacks)

    again = await ledger.commit_now(
        engine, ledger.debit, tenant_id, account_id, 100, idempotency_key="dup"
    )
    assert again.replayed and again.entry_id == results[0].entry_id
    assert again.balance_after == 899
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(889, 0, 889)
    assert await _entries(session_factory, account_id) == (889, 4)
    await _assert_consistent(session_factory)


async def test_mixed_batch_answers_each_caller(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    """One batch: credits, debits that depend on them, a refusal, a conflicting replay, a
    settlement, a duplicate, and an item the database rejects — each caller gets its own answer,
    and the rejected item does not cost the others theirs."""
    tenant_id, account_id = fan
    hold = await ledger.commit_now(
        engine, ledger.reserve, tenant_id, account_id, 100, idempotency_key="hold"
    )
    hooks.hold("blocker")
    blocker = _start(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key="blocker")
    await asyncio.sleep(0.05)
    # Available now 1000 - 100 held - 1 = 899. Each joins the queue before the next is sent
    # (a capture reads its reservation first), so the batch applies them in this order.
    calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = [
        (ledger.credit, (account_id, 500), {"idempotency_key": "c1"}),
        (ledger.debit, (account_id, 1300), {"idempotency_key": "d1"}),
        (ledger.debit, (account_id, 100), {"idempotency_key": "d2"}),
        (ledger.debit, (account_id, 5), {"idempotency_key": "seed"}),
        (ledger.capture, (hold.entry_id, 40), {"idempotency_key": "cap"}),
        (ledger.debit, (account_id, 1300), {"idempotency_key": "d1"}),
        # NUL is not valid in PostgreSQL text: the server refuses this statement.
        (ledger.credit, (account_id, 7), {"idempotency_key": "bad", "reason": "\x00"}),
        (ledger.debit, (account_id, 59), {"idempotency_key": "d3"}),
    ]
    moves = []
    for move, args, kwargs in calls:
        moves.append(_start(engine, move, tenant_id, *args, **kwargs))
        await _queued(engine, len(moves))
    before = _snapshot(engine)
    hooks.release()
    await blocker
    c1, d1, d2, seed, cap, d1_again, bad, d3 = [await _outcome(t) for t in moves]

    assert (c1.balance_after, c1.replayed) == (1499, False)
    assert (d1.balance_after, d1.reserved_after) == (199, 100)  # only thanks to c1 before it
    assert isinstance(d2, InsufficientFundsError) and d2.details["available"] == 99
    assert isinstance(seed, ConflictError)  # "seed" was a credit of 1000
    assert (cap.amount, cap.balance_after, cap.reserved_after) == (-40, 159, 0)
    assert d1_again.replayed and d1_again.entry_id == d1.entry_id
    assert isinstance(bad, asyncpg.CharacterNotInRepertoireError)  # from the server
    assert (d3.balance_after, d3.available_after) == (100, 100)

    after = group_commit.stats(engine)
    assert after.batches == before.batches + 2  # the blocker, then all eight together
    # The pipeline met the bad item and was rolled back; item by item, the bad one is dropped.
    assert (after.fallbacks, after.pipelined) == (before.fallbacks + 1, before.pipelined)
    assert after.retries == before.retries + 1
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(100, 0, 100)
    assert await _keys(session_factory, "bad", "d2") == 0
    assert await _entries(session_factory, account_id) == (100, 7)
    await _assert_consistent(session_factory)


# -- the pipelined batch -----------------------------------------------------------------------


async def _batch(
    engine: AsyncEngine,
    hooks: Hooks,
    tenant_id: int,
    blocker_account: int,
    calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]],
) -> list[Any]:
    """Run ``calls`` as ONE batch, in this order, behind a held blocker; their outcomes."""
    hooks.hold("blocker")
    blocker = _start(engine, ledger.debit, tenant_id, blocker_account, 1, idempotency_key="blocker")
    await asyncio.sleep(0.05)
    moves = []
    for move, args, kwargs in calls:
        moves.append(_start(engine, move, tenant_id, *args, **kwargs))
        await _queued(engine, len(moves))  # each in the lane before the next is sent
    hooks.release()
    await _outcome(blocker)
    return [await _outcome(t) for t in moves]


async def test_pipeline_keeps_order_refusals_and_later_successes(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    """Short funds mid-batch, then a credit that lets a later debit — even one with the refused
    debit's key — go through: every statement sees exactly what the ones before it left."""
    tenant_id, account_id = fan
    before = _snapshot(engine)
    outcomes = await _batch(
        engine,
        hooks,
        tenant_id,
        account_id,
        [  # 999 after the blocker
            (ledger.debit, (account_id, 600), {"idempotency_key": "d1"}),  # 399
            (ledger.debit, (account_id, 500), {"idempotency_key": "k"}),  # refused
            (ledger.reserve, (account_id, 400), {"idempotency_key": "r"}),  # refused
            (ledger.credit, (account_id, 200), {"idempotency_key": "c"}),  # 599
            (ledger.debit, (account_id, 500), {"idempotency_key": "k"}),  # 99: moves now
            (ledger.debit, (account_id, 500), {"idempotency_key": "k"}),  # replay of it
            (ledger.reserve, (account_id, 90), {"idempotency_key": "r"}),  # 99, 90 held
            (ledger.debit, (account_id, 10), {"idempotency_key": "d2"}),  # refused: 9 left
            (ledger.debit, (account_id, 9), {"idempotency_key": "d3"}),  # 90, 90 held
        ],
    )
    d1, k1, r1, c, k2, k3, r2, d2, d3 = outcomes
    assert (d1.balance_after, d1.reserved_after, d1.replayed) == (399, 0, False)
    assert isinstance(k1, InsufficientFundsError)
    assert k1.details == {"account_id": account_id, "available": 399, "needed": 500}
    assert isinstance(r1, InsufficientFundsError) and r1.details["available"] == 399
    assert (c.balance_after, c.amount) == (599, 200)
    assert (k2.balance_after, k2.replayed) == (99, False)
    assert (k3.entry_id, k3.balance_after, k3.replayed) == (k2.entry_id, 99, True)
    assert (r2.balance_after, r2.reserved_after, r2.available_after) == (99, 90, 9)
    assert isinstance(d2, InsufficientFundsError)
    assert d2.details == {"account_id": account_id, "available": 9, "needed": 10}
    assert (d3.balance_after, d3.reserved_after, d3.available_after) == (90, 90, 0)
    entry_ids = [d1.entry_id, c.entry_id, k2.entry_id, r2.entry_id, d3.entry_id]
    assert entry_ids == sorted(entry_ids)  # inserted in arrival order

    after = group_commit.stats(engine)
    assert (after.batches, after.items) == (before.batches + 2, before.items + 10)
    assert (after.pipelined, after.fallbacks) == (before.pipelined + 1, before.fallbacks)
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(90, 90, 0)
    assert await _entries(session_factory, account_id) == (90, 7)  # seed, blocker and 5 here
    await _assert_consistent(session_factory)


async def test_pipeline_duplicate_and_conflicting_keys(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    """A key used before the batch, and keys used twice inside it with other arguments: each
    duplicate sees the first use of its key in the same transaction."""
    tenant_id, account_id = fan
    earlier = await ledger.commit_now(
        engine, ledger.debit, tenant_id, account_id, 7, idempotency_key="earlier"
    )
    before = _snapshot(engine)
    outcomes = await _batch(
        engine,
        hooks,
        tenant_id,
        account_id,
        [  # 992 after the blocker
            (ledger.debit, (account_id, 7), {"idempotency_key": "earlier"}),  # replay
            (ledger.debit, (account_id, 8), {"idempotency_key": "earlier"}),  # conflict
            (ledger.credit, (account_id, 7), {"idempotency_key": "earlier"}),  # conflict
            (ledger.debit, (account_id, 10), {"idempotency_key": "dup"}),  # 982
            (ledger.debit, (account_id, 20), {"idempotency_key": "dup"}),  # conflict
            (ledger.debit, (account_id, 10), {"idempotency_key": "dup"}),  # replay
            (ledger.reserve, (account_id, 10), {"idempotency_key": "dup"}),  # conflict
            (ledger.debit, (account_id, 2), {"idempotency_key": "last"}),  # 980
        ],
    )
    replay, amount, kind, dup, dup_amount, dup_again, dup_kind, last = outcomes
    assert replay.replayed and replay.entry_id == earlier.entry_id
    assert (replay.balance_after, replay.amount) == (993, -7)  # the first call's values
    for conflict, entry_id in ((amount, earlier.entry_id), (kind, earlier.entry_id)):
        assert isinstance(conflict, ConflictError)
        assert conflict.details == {"idempotency_key": "earlier", "entry_id": entry_id}
    assert (dup.balance_after, dup.replayed) == (982, False)
    for conflict in (dup_amount, dup_kind):
        assert isinstance(conflict, ConflictError)
        assert conflict.details == {"idempotency_key": "dup", "entry_id": dup.entry_id}
    assert dup_again.replayed and (dup_again.entry_id, dup_again.balance_after) == (
        dup.entry_id,
        982,
    )
    assert (last.balance_after, last.replayed) == (980, False)

    after = group_commit.stats(engine)
    assert (after.pipelined, after.fallbacks) == (before.pipelined + 1, before.fallbacks)
    assert await _keys(session_factory, "earlier", "dup", "last") == 3
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(980, 0, 980)
    assert await _entries(session_factory, account_id) == (980, 5)
    await _assert_consistent(session_factory)


async def test_pipeline_settles_a_reservation_once(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    tenant_id, account_id = fan
    hold = await ledger.commit_now(
        engine, ledger.reserve, tenant_id, account_id, 100, idempotency_key="hold"
    )
    before = _snapshot(engine)
    outcomes = await _batch(
        engine,
        hooks,
        tenant_id,
        account_id,
        [  # 999 after the blocker, 100 of it held
            (ledger.debit, (account_id, 900), {"idempotency_key": "d1"}),  # refused: 899
            (ledger.capture, (hold.entry_id, 30), {"idempotency_key": "cap"}),  # 969, 0 held
            (ledger.release, (hold.entry_id,), {"idempotency_key": "rel"}),  # settled already
            (ledger.capture, (hold.entry_id, 30), {"idempotency_key": "cap"}),  # replay
            (ledger.debit, (account_id, 900), {"idempotency_key": "d2"}),  # 69
        ],
    )
    d1, cap, rel, cap_again, d2 = outcomes
    assert isinstance(d1, InsufficientFundsError) and d1.details["available"] == 899
    assert (cap.amount, cap.reserved_delta) == (-30, -100)
    assert (cap.balance_after, cap.reserved_after, cap.replayed) == (969, 0, False)
    assert isinstance(rel, ConflictError)
    assert rel.details == {"reservation_id": hold.entry_id, "settled_by": cap.entry_id}
    assert cap_again.replayed and cap_again.entry_id == cap.entry_id
    assert (d2.balance_after, d2.reserved_after) == (69, 0)

    after = group_commit.stats(engine)
    assert (after.pipelined, after.fallbacks) == (before.pipelined + 1, before.fallbacks)
    assert await _keys(session_factory, "rel", "d1") == 0
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(69, 0, 69)
    await _assert_consistent(session_factory)


async def test_pipeline_on_an_account_of_another_tenant(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        other = Tenant(name="other")
        s.add(other)
        await s.flush()
        other_id = other.id
    before = _snapshot(engine)
    outcomes = await _batch(
        engine,
        hooks,
        other_id,
        account_id,
        [
            (ledger.credit, (account_id, 5), {"idempotency_key": "x1"}),
            (ledger.debit, (account_id, 5), {"idempotency_key": "x2"}),
        ],
    )
    assert all(isinstance(o, NotFoundError) for o in outcomes), outcomes
    after = group_commit.stats(engine)
    assert (after.pipelined, after.fallbacks) == (before.pipelined + 1, before.fallbacks)
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(1000, 0, 1000)
    await _assert_consistent(session_factory)


async def test_pipeline_falls_back_when_another_transaction_takes_a_key(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    """A key inserted by a transaction still open elsewhere: the batch's statement for it waits
    on the unique key, then fails when that transaction commits. The batch is rolled back and
    goes again item by item, where the key's movement is answered as a conflict."""
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        platform = await ledger.get_or_create_account(s, tenant_id)
        await ledger.credit(s, tenant_id, platform.id, 50, idempotency_key="p")
    before = _snapshot(engine)
    async with session_factory() as holder:
        taken = await ledger.debit(holder, tenant_id, platform.id, 5, idempotency_key="k")
        hooks.hold("blocker")
        blocker = _start(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key="blocker")
        await asyncio.sleep(0.05)
        moves = []
        for key, amount in (("a", 10), ("k", 20), ("b", 30)):
            moves.append(
                _start(engine, ledger.debit, tenant_id, account_id, amount, idempotency_key=key)
            )
            await _queued(engine, len(moves))
        hooks.release()
        await blocker
        await asyncio.sleep(0.3)
        assert not any(t.done() for t in moves)  # the pipeline waits on the key "k"
        await holder.commit()
    a, k, b = [await _outcome(t) for t in moves]
    assert (a.balance_after, b.balance_after) == (989, 959)
    assert isinstance(k, ConflictError) and k.details["entry_id"] == taken.entry_id
    after = group_commit.stats(engine)
    assert (after.batches, after.items) == (before.batches + 2, before.items + 4)
    assert (after.fallbacks, after.pipelined) == (before.fallbacks + 1, before.pipelined)
    assert after.retries == before.retries  # item by item, nothing failed
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(959, 0, 959)
    assert await _entries(session_factory, account_id) == (959, 4)
    await _assert_consistent(session_factory)


# -- the transaction fails as a whole ----------------------------------------------------------


@pytest.mark.usefixtures("commit_trigger")
async def test_failed_commit_fails_every_caller_and_moves_nothing(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    tenant_id, account_id = fan
    hooks.hold("blocker")
    blocker = _start(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key="blocker")
    await asyncio.sleep(0.05)
    batch = [
        _start(engine, ledger.debit, tenant_id, account_id, 10, idempotency_key="a"),
        _start(engine, ledger.debit, tenant_id, account_id, 10, idempotency_key="poison"),
        _start(engine, ledger.credit, tenant_id, account_id, 10, idempotency_key="b"),
    ]
    await _queued(engine, 3)
    before = _snapshot(engine)
    hooks.release()
    await blocker
    errors = [await _outcome(t) for t in batch]
    assert all(isinstance(e, DBAPIError) and "poisoned commit" in str(e) for e in errors)
    assert group_commit.stats(engine).failed == before.failed + 1
    assert await _keys(session_factory, "a", "poison", "b") == 0
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(999, 0, 999)

    # The lane and the pool carry on; the keys are still free.
    result = await ledger.commit_now(
        engine, ledger.debit, tenant_id, account_id, 10, idempotency_key="a"
    )
    assert (result.balance_after, result.replayed) == (989, False)
    await _assert_consistent(session_factory)


async def test_connection_killed_mid_batch_fails_every_caller(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    tenant_id, account_id = fan
    hooks.hold("blocker")

    async def kill_own_backend(conn: AsyncConnection) -> None:
        pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar()
        async with engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})

    hooks.before["x2"] = kill_own_backend
    blocker = _start(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key="blocker")
    await asyncio.sleep(0.05)
    batch = [
        _start(engine, ledger.debit, tenant_id, account_id, 10, idempotency_key=f"x{i}")
        for i in (1, 2, 3)
    ]
    await _queued(engine, 3)
    hooks.release()
    await blocker
    errors = [await _outcome(t) for t in batch]
    # The backend died before the batch's pipeline went out (its hook runs first): one failure
    # for all three, and nothing of the batch committed.
    assert len({id(e) for e in errors}) == 1, errors
    assert isinstance(errors[0], asyncpg.InterfaceError | asyncpg.PostgresError | DBAPIError)
    assert await _keys(session_factory, "x1", "x2", "x3") == 0
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(999, 0, 999)
    del hooks.before["x2"]
    results = await asyncio.gather(
        *(
            ledger.commit_now(
                engine, ledger.debit, tenant_id, account_id, 10, idempotency_key=f"x{i}"
            )
            for i in (1, 2, 3)
        )
    )
    assert sorted(r.balance_after for r in results) == [969, 979, 989]
    await _assert_consistent(session_factory)


# -- durability and cancellation ---------------------------------------------------------------


@pytest.mark.usefixtures("commit_trigger")
async def test_no_caller_is_answered_before_the_commit(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    """Each ``slow…`` entry makes COMMIT take 0.2 s longer: any answer given before COMMIT
    returned would find its entry invisible to another connection."""
    tenant_id, account_id = fan

    async def debit_then_look(key: str) -> bool:
        await ledger.commit_now(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key=key)
        return await _keys(session_factory, key) == 1  # seen from another connection

    lone = await debit_then_look("slow:lone")  # its own autocommitted statement
    assert lone
    hooks.hold("blocker")
    blocker = _start(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key="blocker")
    await asyncio.sleep(0.05)
    keys = [f"slow:{i}" for i in range(3)]
    lookers = [asyncio.create_task(debit_then_look(key)) for key in keys]
    await _queued(engine, 3)
    hooks.release()
    await blocker
    await asyncio.sleep(0.2)  # the batch is in its COMMIT (0.6 s of triggers) by now
    assert not any(t.done() for t in lookers)
    assert await _keys(session_factory, *keys) == 0
    assert await asyncio.gather(*lookers) == [True, True, True]


async def test_cancelled_callers_do_not_disturb_the_batch(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int], hooks: Hooks
) -> None:
    """A caller cancelled while queued never moves; one cancelled while its batch is in flight
    stops waiting, but its movement commits with the others."""
    tenant_id, account_id = fan
    hooks.hold("blocker")
    blocker = _start(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key="blocker")
    await asyncio.sleep(0.05)
    in_flight = _start(engine, ledger.debit, tenant_id, account_id, 10, idempotency_key="k1")
    queued = _start(engine, ledger.debit, tenant_id, account_id, 10, idempotency_key="k2")
    last = _start(engine, ledger.debit, tenant_id, account_id, 10, idempotency_key="k3")
    await _queued(engine, 3)

    queued.cancel()  # still waiting in the lane

    async def cancel_first(_conn: AsyncConnection) -> None:
        in_flight.cancel()  # k1 is already applied in this batch

    hooks.before["k3"] = cancel_first
    hooks.release()
    await blocker
    assert (await last).balance_after == 979
    for task in (in_flight, queued):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await _keys(session_factory, "k1", "k3") == 2
    assert await _keys(session_factory, "k2") == 0
    replay = await ledger.commit_now(
        engine, ledger.debit, tenant_id, account_id, 10, idempotency_key="k1"
    )
    assert replay.replayed and replay.balance_after == 989
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(979, 0, 979)
    await _assert_consistent(session_factory)


# -- lanes -------------------------------------------------------------------------------------


async def test_accounts_batch_independently(
    engine: AsyncEngine, session_factory: Factory, fan: tuple[int, int]
) -> None:
    """An account whose row another transaction holds delays only its own movements."""
    tenant_id, account_id = fan
    async with session_scope(session_factory) as s:
        platform = await ledger.get_or_create_account(s, tenant_id)
        await ledger.credit(s, tenant_id, platform.id, 50, idempotency_key="p")

    async with session_factory() as holder:
        await ledger.debit(holder, tenant_id, account_id, 1, idempotency_key="held")
        stuck = _start(engine, ledger.debit, tenant_id, account_id, 1, idempotency_key="s1")
        await asyncio.sleep(0.1)
        free = await asyncio.wait_for(
            ledger.commit_now(engine, ledger.debit, tenant_id, platform.id, 5, idempotency_key="f"),
            timeout=5,
        )
        assert free.balance_after == 45
        assert not stuck.done()
        await holder.commit()
    assert (await stuck).balance_after == 998
    assert group_commit.busy_lanes(engine) == 0
    await _assert_consistent(session_factory)


async def test_group_commit_does_not_keep_an_engine_alive(
    settings: Settings, engine: AsyncEngine, fan: tuple[int, int]
) -> None:
    tenant_id, account_id = fan
    other = create_engine(settings)
    await ledger.commit_now(other, ledger.debit, tenant_id, account_id, 1, idempotency_key="o")
    assert group_commit.stats(other).items == 1
    sync_engine = weakref.ref(other.sync_engine)
    await other.dispose()
    del other
    gc.collect()
    assert sync_engine() is None
