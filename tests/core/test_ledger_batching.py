"""Group commit of ``commit_now`` on PostgreSQL: many callers, one transaction, each its own answer.

Most tests first *hold the lane*: a blocker movement is stopped inside its statement, so every
movement submitted meanwhile lands in the next batch, in a known order.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from core import ledger
from core.db import create_engine, session_scope
from core.errors import ConflictError, InsufficientFundsError
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
    found = Hooks()
    real = repo.apply_movement

    async def apply(conn: AsyncConnection, movement: repo.Movement, txn: repo.Txn) -> Any:
        hook = found.before.get(movement.idempotency_key)
        if hook is not None:
            await hook(conn)
        return await real(conn, movement, txn)

    monkeypatch.setattr(repo, "apply_movement", apply)
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
    s = group_commit.stats(engine)
    return Stats(s.batches, s.items, s.largest, s.retries, s.failed)


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
    # The blocker alone, then the six together.
    assert (after.batches, after.items) == (before.batches + 2, before.items + 7)

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
    assert after.retries == before.retries + 1
    assert await _balance(session_factory, tenant_id, account_id) == ledger.Balance(100, 0, 100)
    assert await _keys(session_factory, "bad", "d2") == 0
    assert await _entries(session_factory, account_id) == (100, 7)
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
    # x1 was applied, x2 met the dead connection, x3 never ran: one failure for all three.
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
