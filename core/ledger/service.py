"""Credit movements: credit, debit, reserve, capture, release — each idempotent and atomic.

Every function takes the caller's ``AsyncSession`` and never commits: the edge that opened the
session commits (see :func:`core.db.session_scope`). Each movement changes the account row and
inserts its entry in the same transaction, so ``balance == sum(entries.amount)`` always holds.

Rules:

- amounts are positive integers of credits (``ValidationError`` otherwise);
- the available amount (``balance - reserved``) is checked by the conditional ``UPDATE`` itself,
  never read first and written later, so racing debits cannot overdraw; if it is short,
  ``InsufficientFundsError`` is raised and nothing moves;
- an ``idempotency_key`` (unique per tenant) replays: the same key with the same arguments
  returns the first result with ``replayed=True`` and moves nothing, even when both calls race;
  the same key with other arguments raises ``ConflictError``;
- a reservation (the entry ``reserve`` returns) is settled once, by ``capture`` or ``release``.

A refused movement (short funds, a conflict, a replay) leaves the caller's transaction usable;
a database error (say a CHECK violation after hand-edited data) aborts it like any SQL error.
For a movement with nothing else to commit, :func:`commit_now` is the fast path (group commit).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from core.errors import (
    AtelierError,
    ConflictError,
    InsufficientFundsError,
    NotFoundError,
    ValidationError,
)
from core.ledger import repository as repo
from core.ledger.batching import GroupCommit
from core.models.ledger import AccountKind, EntryKind

P = ParamSpec("P")
R = TypeVar("R")

MAX_AMOUNT = 10**15
"""Largest single movement: far above any real price, far below BIGINT overflow."""
MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Account:
    """An account's identity. Deliberately no balance here: read it with :func:`balance_of`."""

    id: int
    tenant_id: int
    kind: AccountKind
    user_id: int | None


@dataclass(frozen=True, slots=True)
class Balance:
    balance: int
    reserved: int
    available: int

    @classmethod
    def of(cls, balance: int, reserved: int) -> Balance:
        return cls(balance=balance, reserved=reserved, available=balance - reserved)


@dataclass(frozen=True, slots=True)
class LedgerResult:
    """The outcome of a movement; a replay carries the first call's values."""

    entry_id: int  # for ``reserve``, the reservation id to capture or release later
    account_id: int
    kind: EntryKind
    amount: int  # signed change to the balance
    reserved_delta: int  # signed change to reserved
    balance_after: int
    reserved_after: int
    replayed: bool

    @property
    def available_after(self) -> int:
        return self.balance_after - self.reserved_after


@dataclass(frozen=True, slots=True)
class BalanceMismatch:
    account_id: int
    tenant_id: int
    balance: int
    reserved: int
    entry_balance: int  # what the entries add up to
    entry_reserved: int


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    accounts: int
    entries: int
    balance: int  # sum of account balances
    reserved: int
    entry_balance: int  # sum of entry amounts
    entry_reserved: int
    invalid_accounts: int  # negative balance or reserved, or reserved > balance

    @property
    def consistent(self) -> bool:
        return (
            self.balance == self.entry_balance
            and self.reserved == self.entry_reserved
            and self.invalid_accounts == 0
        )


# -- accounts ----------------------------------------------------------------------------------


async def get_or_create_account(
    session: AsyncSession,
    tenant_id: int,
    *,
    user_id: int | None = None,
    kind: AccountKind | None = None,
) -> Account:
    """The tenant's account of ``kind`` for ``user_id`` (a fan's credits), or for the tenant
    itself when ``user_id`` is None; created empty on first use, race-free.

    ``kind`` defaults to ``FAN`` with a user and ``TENANT`` without. A user of another tenant
    is ``NotFoundError``.
    """
    kind = AccountKind(kind) if kind is not None else _default_kind(user_id)
    if kind.per_user and user_id is None:
        raise ValidationError(f"a {kind.value} account needs a user")
    if not kind.per_user and user_id is not None:
        raise ValidationError(f"a {kind.value} account belongs to the tenant, not a user")
    conn = await session.connection()
    owner_key = user_id or 0
    row = await repo.find_account(conn, tenant_id, kind, owner_key)
    if row is None:
        await repo.insert_account(conn, tenant_id, kind, user_id)
        row = await repo.find_account(conn, tenant_id, kind, owner_key)
        if row is None:
            raise NotFoundError("user not found", user_id=user_id)
    return Account(id=row.id, tenant_id=row.tenant_id, kind=AccountKind(row.kind), user_id=user_id)


def _default_kind(user_id: int | None) -> AccountKind:
    return AccountKind.FAN if user_id is not None else AccountKind.TENANT


async def balance_of(session: AsyncSession, tenant_id: int, account_id: int) -> Balance:
    """Balance, reserved and available of an account (``NotFoundError`` if not this tenant's)."""
    row = await repo.get_account(await session.connection(), tenant_id, account_id)
    if row is None:
        raise NotFoundError("ledger account not found", account_id=account_id)
    return Balance.of(row.balance, row.reserved)


get_balance = balance_of


async def user_balance(
    session: AsyncSession, tenant_id: int, user_id: int, kind: AccountKind = AccountKind.FAN
) -> Balance:
    """A fan's balance; zero when they have no account yet (none is created)."""
    conn = await session.connection()
    row = await repo.find_account(conn, tenant_id, kind, user_id)
    return Balance.of(0, 0) if row is None else Balance.of(row.balance, row.reserved)


# -- movements ---------------------------------------------------------------------------------


async def credit(
    session: AsyncSession,
    tenant_id: int,
    account_id: int,
    amount: int,
    *,
    idempotency_key: str,
    reason: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> LedgerResult:
    """Add ``amount`` credits to the balance."""
    _check_amount(amount)
    return await _apply(
        session,
        _movement(
            tenant_id, account_id, EntryKind.CREDIT, amount, 0, idempotency_key, None, reason, meta
        ),
    )


async def debit(
    session: AsyncSession,
    tenant_id: int,
    account_id: int,
    amount: int,
    *,
    idempotency_key: str,
    reason: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> LedgerResult:
    """Take ``amount`` credits from the available balance, or raise ``InsufficientFundsError``."""
    _check_amount(amount)
    return await _apply(
        session,
        _movement(
            tenant_id, account_id, EntryKind.DEBIT, -amount, 0, idempotency_key, None, reason, meta
        ),
    )


async def reserve(
    session: AsyncSession,
    tenant_id: int,
    account_id: int,
    amount: int,
    *,
    idempotency_key: str,
    reason: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> LedgerResult:
    """Hold ``amount`` of the available credits; ``entry_id`` of the result is the reservation,
    to settle later with :func:`capture` or :func:`release`."""
    _check_amount(amount)
    return await _apply(
        session,
        _movement(
            tenant_id, account_id, EntryKind.RESERVE, 0, amount, idempotency_key, None, reason, meta
        ),
    )


async def capture(
    session: AsyncSession,
    tenant_id: int,
    reservation_id: int,
    amount: int | None = None,
    *,
    idempotency_key: str,
    reason: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> LedgerResult:
    """Spend ``amount`` (default: all) of a reservation and free the rest of the hold, in one
    entry. More than the hold is ``ValidationError`` (debit the difference separately); a
    reservation already settled under another key is ``ConflictError``."""
    hold = await _reservation(session, tenant_id, reservation_id)
    spent = hold.reserved_delta if amount is None else amount
    _check_amount(spent)
    if spent > hold.reserved_delta:
        raise ValidationError(
            "cannot capture more than the reservation holds",
            reservation_id=reservation_id,
            held=hold.reserved_delta,
            amount=spent,
        )
    return await _apply(
        session,
        _movement(
            tenant_id,
            hold.account_id,
            EntryKind.CAPTURE,
            -spent,
            -hold.reserved_delta,
            idempotency_key,
            reservation_id,
            reason,
            meta,
        ),
    )


async def release(
    session: AsyncSession,
    tenant_id: int,
    reservation_id: int,
    *,
    idempotency_key: str,
    reason: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> LedgerResult:
    """Free a whole reservation without spending any of it."""
    hold = await _reservation(session, tenant_id, reservation_id)
    return await _apply(
        session,
        _movement(
            tenant_id,
            hold.account_id,
            EntryKind.RELEASE,
            0,
            -hold.reserved_delta,
            idempotency_key,
            reservation_id,
            reason,
            meta,
        ),
    )


# -- standalone movements ----------------------------------------------------------------------


async def commit_now(
    engine: AsyncEngine,
    move: Callable[Concatenate[AsyncSession, P], Awaitable[R]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """Run one ledger movement as its own durable unit, sharing the COMMIT with its neighbours::

        result = await ledger.commit_now(engine, ledger.debit, tenant_id, account_id, 5,
                                         idempotency_key=key)

    For a movement with nothing else to commit alongside it — above all on a hot account. On
    PostgreSQL the movement joins this process's group commit on its account
    (:mod:`core.ledger.batching`): movements that arrive while the account's previous batch is
    in flight are applied together in one transaction, in arrival order, each with its own entry,
    idempotency key and answer, under one ``COMMIT`` and one acquisition of the row lock. It
    returns (or raises) only once that ``COMMIT`` has returned, so a result is durable. A lone
    movement is one autocommitted statement (no ``BEGIN``, no ``COMMIT``, no waiting). Refusals
    (``InsufficientFundsError``, ``ConflictError``, ...) and a replay answer this caller only;
    if the shared transaction fails, every movement in it fails with that error and none moved.
    Cancelling the caller while its batch is in flight does not stop the movement. On SQLite it
    is an ordinary transaction, committed at the end.

    ``move`` is one of the movements (:func:`credit`, :func:`debit`, :func:`reserve`,
    :func:`capture`, :func:`release`), called once. Inside a larger unit of work (a job row plus
    its reservation), call the movement with the caller's session instead, so both commit or
    neither does.
    """
    if engine.dialect.name != "postgresql":
        async with AsyncSession(engine, expire_on_commit=False, autoflush=False) as session:
            result = await move(session, *args, **kwargs)
            await session.commit()
            return result
    async with AsyncSession(engine, expire_on_commit=False, autoflush=False) as session:
        session.info[_GROUP_COMMIT] = engine
        result = await move(session, *args, **kwargs)
        if session.in_transaction():  # anything the callable did besides its movement
            await session.commit()
        return result


_GROUP_COMMIT = "core.ledger.group_commit"


async def _settle_in_batch(
    conn: AsyncConnection, movement: repo.Movement, *, alone: bool
) -> LedgerResult:
    return await _settle(conn, movement, repo.Txn.OWN if alone else repo.Txn.BATCH)


async def _settle_batch(
    conn: AsyncConnection, movements: Sequence[repo.Movement]
) -> list[LedgerResult | AtelierError]:
    """A whole batch (one account's movements, in order) in two round trips — lock the account,
    then every movement's statement in one pipeline (:func:`repo.apply_movements`) — each
    movement answered from its own statement's row, exactly as :func:`_settle` would have.
    (Pipelining needs asyncpg; another driver applies them one by one, in the same transaction.)
    """
    answers: list[LedgerResult | AtelierError] = []
    if conn.dialect.driver != "asyncpg":
        for movement in movements:
            try:
                answers.append(await _settle(conn, movement, repo.Txn.BATCH))
            except AtelierError as refusal:
                answers.append(refusal)
        return answers
    outcomes = await repo.apply_movements(conn, movements)
    for movement, outcome in zip(movements, outcomes, strict=True):
        try:
            answers.append(_answer_batched(movement, outcome))
        except AtelierError as refusal:
            answers.append(refusal)
    return answers


def _answer_batched(movement: repo.Movement, outcome: repo.Outcome) -> LedgerResult:
    if outcome.entry_id is not None:
        return _moved(movement, outcome.entry_id, outcome.balance, outcome.reserved)
    return _refused(movement, outcome.prior, outcome.settled_by, outcome.account)


group_commit: GroupCommit[tuple[int, int], repo.Movement, LedgerResult] = GroupCommit(
    _settle_in_batch, apply_batch=_settle_batch, refusals=(AtelierError,)
)
"""``commit_now``'s group commit (``group_commit.stats(engine)`` tells what it did). One lane per
(tenant, account): accounts batch independently, so a transaction only ever locks one account
row (no lock-order deadlocks between batches) and a slow account never delays another. A batch
of several is applied by :func:`_settle_batch` in one round trip; should that fail (a key taken
by another transaction meanwhile, a value the server refuses), it is rolled back and the batch
goes again one movement at a time through :func:`_settle`, which can undo and retry."""


# -- reconciliation ----------------------------------------------------------------------------


async def find_balance_mismatches(
    session: AsyncSession, tenant_id: int | None = None
) -> list[BalanceMismatch]:
    """Accounts (of one tenant, or of all) whose balance or reserved is not the sum of their
    entries. Empty when the ledger is sound; the worker's reconciliation task reports the rest."""
    rows = await repo.balance_mismatches(await session.connection(), tenant_id)
    return [
        BalanceMismatch(
            account_id=r.id,
            tenant_id=r.tenant_id,
            balance=r.balance,
            reserved=r.reserved,
            entry_balance=int(r.entry_balance),
            entry_reserved=int(r.entry_reserved),
        )
        for r in rows
    ]


async def ledger_totals(session: AsyncSession, tenant_id: int | None = None) -> LedgerTotals:
    """Sums over accounts and entries in one snapshot, for a final balance check."""
    r = await repo.totals(await session.connection(), tenant_id)
    return LedgerTotals(
        accounts=int(r.accounts),
        entries=int(r.entries),
        balance=int(r.balance),
        reserved=int(r.reserved),
        entry_balance=int(r.entry_balance),
        entry_reserved=int(r.entry_reserved),
        invalid_accounts=int(r.invalid_accounts),
    )


# -- internals ---------------------------------------------------------------------------------


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError("amount must be an integer number of credits", amount=repr(amount))
    if not 0 < amount <= MAX_AMOUNT:
        raise ValidationError(f"amount must be between 1 and {MAX_AMOUNT}", amount=amount)


def _movement(
    tenant_id: int,
    account_id: int,
    kind: EntryKind,
    amount: int,
    reserved_delta: int,
    idempotency_key: str,
    settles_entry_id: int | None,
    reason: str | None,
    meta: Mapping[str, Any] | None,
) -> repo.Movement:
    if not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= MAX_KEY_LENGTH:
        raise ValidationError(f"idempotency_key must be 1 to {MAX_KEY_LENGTH} characters")
    return repo.Movement(
        tenant_id=tenant_id,
        account_id=account_id,
        kind=kind.value,
        amount=amount,
        reserved_delta=reserved_delta,
        idempotency_key=idempotency_key,
        settles_entry_id=settles_entry_id,
        reason=reason,
        meta=dict(meta or {}),
    )


async def _reservation(session: AsyncSession, tenant_id: int, reservation_id: int) -> Any:
    row = await repo.get_entry(await session.connection(), tenant_id, reservation_id)
    if row is None or row.kind != EntryKind.RESERVE:
        raise NotFoundError("reservation not found", reservation_id=reservation_id)
    return row


async def _apply(session: AsyncSession, movement: repo.Movement) -> LedgerResult:
    engine = session.info.get(_GROUP_COMMIT)
    if isinstance(engine, AsyncEngine):
        # commit_now's own session. Whatever ran on it before (a reservation lookup) is over:
        # end it and hand its connection back first, so that callers waiting for a batch never
        # hold the connections the batch needs.
        if session.in_transaction():
            await session.commit()
        lane = (movement.tenant_id, movement.account_id)
        return await group_commit.submit(engine, lane, movement)
    return await _settle(await session.connection(), movement, repo.Txn.SESSION)


async def _settle(conn: AsyncConnection, movement: repo.Movement, txn: repo.Txn) -> LedgerResult:
    """Apply the movement on ``conn`` and answer it: its result, the first result of a replay,
    or the refusal. A refusal leaves the transaction as it found it."""
    applied = await repo.apply_movement(conn, movement, txn)
    if applied.entry_id is not None:
        return _moved(movement, applied.entry_id, applied.balance_after, applied.reserved_after)
    if applied.moved:
        # The row moved but the entry was refused: the key (or the settlement) was taken by a
        # call that committed while we waited for the row. Undo, then answer as below.
        await repo.undo_movement(conn, movement)

    first = await repo.entry_by_key(conn, movement.tenant_id, movement.idempotency_key)
    if first is not None:
        return _replay(first, movement)
    settled_by = None
    if movement.settles_entry_id is not None:
        settled = await repo.settlement_of(conn, movement.tenant_id, movement.settles_entry_id)
        settled_by = None if settled is None else settled.id
    account = None
    if settled_by is None:
        row = await repo.get_account(conn, movement.tenant_id, movement.account_id)
        account = None if row is None else (row.balance, row.reserved)
    return _refused(movement, None, settled_by, account)


def _moved(
    movement: repo.Movement, entry_id: int, balance_after: int, reserved_after: int
) -> LedgerResult:
    return LedgerResult(
        entry_id=entry_id,
        account_id=movement.account_id,
        kind=EntryKind(movement.kind),
        amount=movement.amount,
        reserved_delta=movement.reserved_delta,
        balance_after=balance_after,
        reserved_after=reserved_after,
        replayed=False,
    )


def _refused(
    movement: repo.Movement,
    first: Any | None,
    settled_by: int | None,
    account: tuple[int, int] | None,
) -> LedgerResult:
    """Answer a movement that did not move, from what was found in its way, in this order: the
    entry already holding its key (a replay, or a conflict), the entry that settled its
    reservation, the account's (balance, reserved) — None when it is not the tenant's."""
    if first is not None:
        return _replay(first, movement)
    if settled_by is not None:
        raise ConflictError(
            "reservation already settled",
            reservation_id=movement.settles_entry_id,
            settled_by=settled_by,
        )
    if account is None:
        raise NotFoundError("ledger account not found", account_id=movement.account_id)
    balance, reserved = account
    raise InsufficientFundsError(
        "not enough credits",
        account_id=movement.account_id,
        available=balance - reserved,
        needed=max(-movement.amount, movement.reserved_delta),
    )


def _replay(first: Any, movement: repo.Movement) -> LedgerResult:
    same = (
        first.kind == movement.kind
        and first.account_id == movement.account_id
        and first.amount == movement.amount
        and first.reserved_delta == movement.reserved_delta
        and first.settles_entry_id == movement.settles_entry_id
    )
    if not same:
        raise ConflictError(
            "idempotency key already used for another movement",
            idempotency_key=movement.idempotency_key,
            entry_id=first.id,
        )
    return LedgerResult(
        entry_id=first.id,
        account_id=first.account_id,
        kind=EntryKind(first.kind),
        amount=first.amount,
        reserved_delta=first.reserved_delta,
        balance_after=first.balance_after,
        reserved_after=first.reserved_after,
        replayed=True,
    )
