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
For a movement with nothing else to commit, :func:`commit_now` is the fast path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.errors import ConflictError, InsufficientFundsError, NotFoundError, ValidationError
from core.ledger import repository as repo
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
    """Run one ledger call as its own durable transaction, in as few round trips as possible::

        result = await ledger.commit_now(engine, ledger.debit, tenant_id, account_id, 5,
                                         idempotency_key=key)

    For a movement with nothing else to commit alongside it — above all on a hot account. On
    PostgreSQL the connection is in autocommit, so the movement's single statement *is* the
    transaction: the server fsyncs the commit before it answers, and the account row stays
    locked only for the statement and its WAL flush, never across a client round trip (no
    ``BEGIN``, no separate ``COMMIT``). Movements of this process on one account also queue in
    the process (a few at a time reach the row) instead of piling up on the row lock. On SQLite
    it is an ordinary transaction, committed at the end.

    Inside a larger unit of work (a job row plus its reservation), call the movement with the
    caller's session instead, so both commit or neither does.
    """
    if engine.dialect.name != "postgresql":
        async with AsyncSession(engine, expire_on_commit=False, autoflush=False) as session:
            result = await move(session, *args, **kwargs)
            await session.commit()
            return result
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(conn, expire_on_commit=False, autoflush=False) as session:
            session.info[_AUTOCOMMIT] = True
            return await move(session, *args, **kwargs)


_AUTOCOMMIT = "core.ledger.autocommit"
HOT_ACCOUNT_WIDTH = 2
"""How many autocommit movements of one process may wait on one account row at once: two keep
the row busy (the next statement is already at the server when a commit lands) without a convoy
of waiters that all wake on every commit."""


class _AccountSlots:
    """Per-account semaphores of this process, dropped when nobody holds or waits on them."""

    def __init__(self, width: int) -> None:
        self._width = width
        self._slots: dict[tuple[int, int], tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def slot(self, account_id: int) -> AsyncIterator[None]:
        key = (id(asyncio.get_running_loop()), account_id)
        semaphore, users = self._slots.get(key) or (asyncio.Semaphore(self._width), 0)
        self._slots[key] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._slots[key]
            if users == 1:
                del self._slots[key]
            else:
                self._slots[key] = (semaphore, users - 1)


_hot_accounts = _AccountSlots(HOT_ACCOUNT_WIDTH)


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
    conn = await session.connection()
    if session.info.get(_AUTOCOMMIT):
        async with _hot_accounts.slot(movement.account_id):
            applied = await repo.apply_movement(conn, movement, autocommit=True)
    else:
        applied = await repo.apply_movement(conn, movement, autocommit=False)
    if applied.entry_id is not None:
        return LedgerResult(
            entry_id=applied.entry_id,
            account_id=movement.account_id,
            kind=EntryKind(movement.kind),
            amount=movement.amount,
            reserved_delta=movement.reserved_delta,
            balance_after=applied.balance_after,
            reserved_after=applied.reserved_after,
            replayed=False,
        )
    if applied.moved:
        # The row moved but the entry was refused: the key (or the settlement) was taken by a
        # call that committed while we waited for the row. Undo, then answer as below.
        await repo.undo_movement(conn, movement)

    first = await repo.entry_by_key(conn, movement.tenant_id, movement.idempotency_key)
    if first is not None:
        return _replay(first, movement)
    if movement.settles_entry_id is not None:
        settled = await repo.settlement_of(conn, movement.tenant_id, movement.settles_entry_id)
        if settled is not None:
            raise ConflictError(
                "reservation already settled",
                reservation_id=movement.settles_entry_id,
                settled_by=settled.id,
            )
    account = await repo.get_account(conn, movement.tenant_id, movement.account_id)
    if account is None:
        raise NotFoundError("ledger account not found", account_id=movement.account_id)
    raise InsufficientFundsError(
        "not enough credits",
        account_id=movement.account_id,
        available=account.balance - account.reserved,
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
