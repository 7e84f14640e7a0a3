"""All SQL of the ledger, as SQLAlchemy Core statements built once and reused.

The hot path is one statement on PostgreSQL: a conditional ``UPDATE`` of the account row and the
``INSERT`` of its entry in a data-modifying CTE, so the account row lock is taken as late as
possible and the caller's ``COMMIT`` follows right after. SQLite cannot put DML in a CTE, so
there the same two steps run as two statements inside the caller's transaction (SQLite
serialises writers anyway).

A group commit's batch (:func:`apply_movements`) sends one such statement per movement in one
pipelined round trip; each statement also reports what its caller needs if it was refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, cast

import asyncpg
from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Insert,
    Select,
    String,
    Table,
    Text,
    Update,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import UTCDateTime, utcnow
from core.models.ledger import AccountKind, LedgerAccount, LedgerEntry
from core.models.user import User

UNIQUE_VIOLATION = "23505"

accounts = cast(Table, LedgerAccount.__table__)
entries = cast(Table, LedgerEntry.__table__)
users = cast(Table, User.__table__)


@dataclass(frozen=True, slots=True)
class Movement:
    """One change to one account, exactly as its entry records it."""

    tenant_id: int
    account_id: int
    kind: str
    amount: int
    reserved_delta: int
    idempotency_key: str
    settles_entry_id: int | None
    reason: str | None
    meta: dict[str, Any]

    def params(self) -> dict[str, Any]:
        # Prefixed names: an execute() parameter named like a column would become a SET value.
        return {
            "m_tenant_id": self.tenant_id,
            "m_account_id": self.account_id,
            "m_kind": self.kind,
            "m_amount": self.amount,
            "m_reserved_delta": self.reserved_delta,
            "m_idempotency_key": self.idempotency_key,
            "m_settles_entry_id": self.settles_entry_id,
            "m_reason": self.reason,
            "m_meta": self.meta,
            "m_created_at": utcnow(),
        }


@dataclass(frozen=True, slots=True)
class Applied:
    """What :func:`apply_movement` did: ``moved`` says the account row changed; ``entry_id`` is
    None when the entry could not be inserted (key or settlement already taken) — the caller must
    then undo the row change before going on."""

    moved: bool
    entry_id: int | None = None
    balance_after: int = 0
    reserved_after: int = 0


_ENTRY_COLUMNS = (
    "tenant_id",
    "account_id",
    "kind",
    "amount",
    "reserved_delta",
    "balance_after",
    "reserved_after",
    "idempotency_key",
    "settles_entry_id",
    "reason",
    "meta",
    "created_at",
)


def _conditional_update(*, settlement_guard: bool = False) -> Update:
    """Move the row only if the result keeps ``0 <= reserved <= balance`` and the key is unused.

    The key guard keeps a sequential replay from touching (and locking) the account at all; a
    replay racing the first call gets past it and is caught by the unique key on insert instead.
    ``settlement_guard`` also leaves the row alone when the reservation the movement settles is
    settled already (none is for credits, debits and reserves: ``= NULL`` matches nothing).
    """
    amount = bindparam("m_amount", type_=BigInteger)
    reserved_delta = bindparam("m_reserved_delta", type_=BigInteger)
    key_used = exists().where(
        entries.c.tenant_id == bindparam("m_tenant_id", type_=BigInteger),
        entries.c.idempotency_key == bindparam("m_idempotency_key", type_=String),
    )
    guards: list[ColumnElement[bool]] = [~key_used]
    if settlement_guard:
        settled = exists().where(
            entries.c.tenant_id == bindparam("m_tenant_id", type_=BigInteger),
            entries.c.settles_entry_id == bindparam("m_settles_entry_id", type_=BigInteger),
        )
        guards.append(~settled)
    return (
        update(accounts)
        .where(
            accounts.c.id == bindparam("m_account_id", type_=BigInteger),
            accounts.c.tenant_id == bindparam("m_tenant_id", type_=BigInteger),
            accounts.c.balance + amount >= accounts.c.reserved + reserved_delta,
            accounts.c.reserved + reserved_delta >= literal_column("0"),
            *guards,
        )
        .values(balance=accounts.c.balance + amount, reserved=accounts.c.reserved + reserved_delta)
        .returning(accounts.c.id, accounts.c.tenant_id, accounts.c.balance, accounts.c.reserved)
    )


def _entry_values(balance: Any, reserved: Any) -> list[Any]:
    return [
        bindparam("m_tenant_id", type_=BigInteger),
        bindparam("m_account_id", type_=BigInteger),
        bindparam("m_kind", type_=String),
        bindparam("m_amount", type_=BigInteger),
        bindparam("m_reserved_delta", type_=BigInteger),
        balance,
        reserved,
        bindparam("m_idempotency_key", type_=String),
        bindparam("m_settles_entry_id", type_=BigInteger),
        bindparam("m_reason", type_=Text),
        bindparam("m_meta", type_=JSON),
        bindparam("m_created_at", type_=UTCDateTime),
    ]


@cache
def _pg_move_statement(*, strict: bool) -> Select[Any]:
    """The one-round-trip movement. ``strict`` leaves out ``ON CONFLICT DO NOTHING``: a taken
    key then fails the whole statement, row update included — right for a statement that is its
    own transaction (autocommit), wrong inside a caller's transaction, which it would abort."""
    upd = _conditional_update().cte("upd")
    ins = postgresql.insert(entries).from_select(
        list(_ENTRY_COLUMNS),
        select(*_entry_values(upd.c.balance, upd.c.reserved)).select_from(upd),
    )
    if not strict:
        # No conflict target: a taken idempotency key or an already settled reservation both
        # leave the entry out, and the caller sorts out which.
        ins = ins.on_conflict_do_nothing()
    ins_cte = ins.returning(entries.c.id, entries.c.balance_after, entries.c.reserved_after).cte(
        "ins"
    )
    return select(
        upd.c.id.label("account_id"),
        ins_cte.c.id.label("entry_id"),
        upd.c.balance,
        upd.c.reserved,
    ).select_from(upd.outerjoin(ins_cte, true()))


@cache
def _pg_batch_statement() -> Select[Any]:
    """One movement of a batch: always exactly one row, which answers its caller alone.

    Strict (no ``ON CONFLICT``), so the row moves if and only if the entry goes in — no
    statement of a pipeline can leave a change behind that a later one builds on and that would
    have to be undone. Refusals it can see coming are guards of the ``UPDATE`` (short funds, a
    used key, a settled reservation); a unique violation it cannot (a key or settlement taken
    by another transaction meanwhile) fails the statement, and with it the batch's transaction.

    Besides the movement (``entry_id``, ``balance``, ``reserved``; NULL when refused) a refused
    movement's row carries what the guards saw, from the statement's snapshot — which includes
    the batch's earlier statements: the entry already holding the key (``prior``, a replay or a
    conflict), the entry that settled the reservation (``settled_id``) and the account as it
    stood (``account``: balance and reserved; NULL when it is not this tenant's). They are
    looked up only for a refusal (a ``CASE`` evaluates the branch it takes, nothing else).
    """
    tenant = bindparam("m_tenant_id", type_=BigInteger)
    upd = _conditional_update(settlement_guard=True).cte("upd")
    ins = (
        postgresql.insert(entries)
        .from_select(
            list(_ENTRY_COLUMNS),
            select(*_entry_values(upd.c.balance, upd.c.reserved)).select_from(upd),
        )
        .returning(entries.c.id)
        .cte("ins")
    )
    cur = accounts.alias("cur")
    prior = entries.alias("prior")
    settled = entries.alias("settled")
    account = select(func.row(cur.c.balance, cur.c.reserved)).where(
        cur.c.id == bindparam("m_account_id", type_=BigInteger), cur.c.tenant_id == tenant
    )
    first = select(func.row(*(prior.c[name] for name in _PRIOR_COLUMNS))).where(
        prior.c.tenant_id == tenant,
        prior.c.idempotency_key == bindparam("m_idempotency_key", type_=String),
    )
    settlement = select(settled.c.id).where(
        settled.c.tenant_id == tenant,
        settled.c.settles_entry_id == bindparam("m_settles_entry_id", type_=BigInteger),
    )

    def if_refused(lookup: Select[Any], name: str) -> Any:
        return case((upd.c.id.is_(None), lookup.scalar_subquery())).label(name)

    one = select(literal_column("1").label("one")).subquery("one")
    return select(
        ins.c.id.label("entry_id"),
        upd.c.balance,
        upd.c.reserved,
        if_refused(account, "account"),
        if_refused(first, "prior"),
        if_refused(settlement, "settled_id"),
    ).select_from(one.outerjoin(upd, true()).outerjoin(ins, true()))


_PRIOR_COLUMNS = (
    "id",
    "account_id",
    "kind",
    "amount",
    "reserved_delta",
    "settles_entry_id",
    "balance_after",
    "reserved_after",
)


@cache
def _sqlite_statements() -> tuple[Update, Insert]:
    ins = (
        sqlite.insert(entries)
        .values(
            dict(
                zip(
                    _ENTRY_COLUMNS,
                    _entry_values(
                        bindparam("m_balance_after", type_=BigInteger),
                        bindparam("m_reserved_after", type_=BigInteger),
                    ),
                    strict=True,
                )
            )
        )
        .on_conflict_do_nothing()
        .returning(entries.c.id)
    )
    return _conditional_update(), ins


class Txn(StrEnum):
    """Whose transaction a movement's statement runs in."""

    SESSION = "session"
    """The caller's SQLAlchemy transaction: the statement must leave it usable on a taken key."""
    OWN = "own"
    """None: the connection is in autocommit and the statement is its own transaction."""
    BATCH = "batch"
    """A group commit's: the connection is in autocommit, inside a ``BEGIN`` that the batch sent
    itself (see :mod:`core.ledger.batching`). Like ``SESSION`` it must stay usable; unlike it,
    SQLAlchemy runs no transaction of its own here, so the driver can be used directly."""


@cache
def _asyncpg_sql(dialect: Dialect, *, strict: bool) -> tuple[str, tuple[str, ...]]:
    """The movement statement compiled once per engine for asyncpg, with its parameter order."""
    return _compiled(_pg_move_statement(strict=strict), dialect)


@cache
def _asyncpg_batch_sql(dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    return _compiled(_pg_batch_statement(), dialect)


def _compiled(stmt: Select[Any], dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    compiled = stmt.compile(dialect=dialect)
    assert compiled.positiontup is not None
    return str(compiled), tuple(compiled.positiontup)


def _driver_params(movement: Movement, order: tuple[str, ...]) -> list[Any]:
    params = movement.params()
    params["m_meta"] = json.dumps(params["m_meta"])
    return [params[name] for name in order]


@dataclass(frozen=True, slots=True)
class PriorEntry:
    """The entry that already held a movement's idempotency key."""

    id: int
    account_id: int
    kind: str
    amount: int
    reserved_delta: int
    settles_entry_id: int | None
    balance_after: int
    reserved_after: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one movement of a batch did (:func:`apply_movements`).

    ``entry_id`` set: it moved, to ``balance``/``reserved``. Otherwise nothing moved, and the
    rest says why, as the movement's statement saw it: ``prior`` holds its key already;
    ``settled_by`` settled its reservation already; ``account`` is the account's (balance,
    reserved) then — funds were short — or None when the account is not the tenant's.
    """

    entry_id: int | None
    balance: int = 0
    reserved: int = 0
    prior: PriorEntry | None = None
    settled_by: int | None = None
    account: tuple[int, int] | None = None


async def apply_movements(conn: AsyncConnection, movements: Sequence[Movement]) -> list[Outcome]:
    """Apply movements of ONE account in order, in the caller's transaction (PostgreSQL and
    asyncpg only; the connection must be in autocommit at the driver level, inside a ``BEGIN``
    of the caller's).

    Two round trips whatever the count: the account row is locked first (so no statement of the
    batch waits on it midway, and what each one reports of the account is exact), then the
    movements go as one pipeline of the strict batch statement (:func:`_pg_batch_statement`),
    asyncpg's ``fetchmany``: every statement runs in order in the same transaction, each seeing
    what the previous ones did, and each answers with one row. Any error (a unique violation, a
    value the server refuses, a lost connection) raises, and the transaction is then aborted: it
    must be rolled back, and nothing of it kept.
    """
    if not movements:
        return []
    first = movements[0]
    if any(m.account_id != first.account_id or m.tenant_id != first.tenant_id for m in movements):
        raise ValueError("a batch moves one account")
    sql, order = _asyncpg_batch_sql(conn.dialect)
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    await driver.execute(_LOCK_ACCOUNT_SQL, first.account_id, first.tenant_id)
    records = await driver.fetchmany(sql, [_driver_params(m, order) for m in movements])
    if len(records) != len(movements):  # one row per statement, by construction
        raise RuntimeError(f"{len(records)} rows for {len(movements)} movements")
    return [_outcome(record) for record in records]


_LOCK_ACCOUNT_SQL = "SELECT 1 FROM ledger_accounts WHERE id = $1 AND tenant_id = $2 FOR UPDATE"


def _outcome(record: Any) -> Outcome:
    if record["entry_id"] is not None:
        return Outcome(record["entry_id"], record["balance"], record["reserved"])
    prior = record["prior"]
    account = record["account"]
    return Outcome(
        None,
        prior=None
        if prior is None
        else PriorEntry(**dict(zip(_PRIOR_COLUMNS, prior, strict=True))),
        settled_by=record["settled_id"],
        account=None if account is None else (account[0], account[1]),
    )


async def apply_movement(conn: AsyncConnection, movement: Movement, txn: Txn) -> Applied:
    """Update the account row and insert the entry, in one round trip on PostgreSQL.

    ``Txn.OWN`` (PostgreSQL only) uses the strict statement: the server commits it before
    answering, and a unique violation undoes it whole. ``Txn.SESSION`` and ``Txn.BATCH`` use the
    tolerant one (``ON CONFLICT DO NOTHING``): a taken key leaves the entry out and the caller
    undoes the row change. Outside a SQLAlchemy-managed transaction (``OWN``, ``BATCH``) the
    statement goes straight to asyncpg (compiled once, prepared and cached by asyncpg): on a hot
    account the client's CPU per movement is the limit, and this halves it. (Inside one, the
    driver may not have sent SQLAlchemy's lazy ``BEGIN`` yet, so it must go through SQLAlchemy.)
    """
    strict = txn is Txn.OWN
    driver_level = txn is not Txn.SESSION and conn.dialect.driver == "asyncpg"
    if conn.dialect.name == "postgresql" and driver_level:
        sql, order = _asyncpg_sql(conn.dialect, strict=strict)
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        try:
            record = await driver.fetchrow(sql, *_driver_params(movement, order))
        except asyncpg.UniqueViolationError:
            if not strict:
                raise
            return Applied(moved=False)  # key or settlement taken meanwhile; nothing moved
        if record is None:
            return Applied(moved=False)
        return Applied(True, record["entry_id"], record["balance"], record["reserved"])
    params = movement.params()
    if conn.dialect.name == "postgresql":
        try:
            row = (await conn.execute(_pg_move_statement(strict=strict), params)).first()
        except IntegrityError as error:
            if not strict or getattr(error.orig, "sqlstate", None) != UNIQUE_VIOLATION:
                raise
            return Applied(moved=False)
        if row is None:
            return Applied(moved=False)
        return Applied(True, row.entry_id, row.balance, row.reserved)
    upd, ins = _sqlite_statements()
    moved = (await conn.execute(upd, params)).first()
    if moved is None:
        return Applied(moved=False)
    params.update(m_balance_after=moved.balance, m_reserved_after=moved.reserved)
    entry_id = (await conn.execute(ins, params)).scalar()
    return Applied(True, entry_id, moved.balance, moved.reserved)


async def undo_movement(conn: AsyncConnection, movement: Movement) -> None:
    """Reverse a row change whose entry was refused (same transaction, row still locked)."""
    await conn.execute(
        update(accounts)
        .where(accounts.c.id == movement.account_id, accounts.c.tenant_id == movement.tenant_id)
        .values(
            balance=accounts.c.balance - movement.amount,
            reserved=accounts.c.reserved - movement.reserved_delta,
        )
    )


async def entry_by_key(conn: AsyncConnection, tenant_id: int, key: str) -> Any | None:
    stmt = select(entries).where(entries.c.tenant_id == tenant_id, entries.c.idempotency_key == key)
    return (await conn.execute(stmt)).first()


async def get_entry(conn: AsyncConnection, tenant_id: int, entry_id: int) -> Any | None:
    stmt = select(entries).where(entries.c.tenant_id == tenant_id, entries.c.id == entry_id)
    return (await conn.execute(stmt)).first()


async def settlement_of(conn: AsyncConnection, tenant_id: int, reservation_id: int) -> Any | None:
    stmt = select(entries).where(
        entries.c.tenant_id == tenant_id, entries.c.settles_entry_id == reservation_id
    )
    return (await conn.execute(stmt)).first()


async def get_account(conn: AsyncConnection, tenant_id: int, account_id: int) -> Any | None:
    stmt = select(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id)
    return (await conn.execute(stmt)).first()


async def find_account(
    conn: AsyncConnection, tenant_id: int, kind: AccountKind, owner_key: int
) -> Any | None:
    stmt = select(accounts).where(
        accounts.c.tenant_id == tenant_id,
        accounts.c.kind == kind.value,
        accounts.c.owner_key == owner_key,
    )
    return (await conn.execute(stmt)).first()


async def insert_account(
    conn: AsyncConnection, tenant_id: int, kind: AccountKind, user_id: int | None
) -> None:
    """Insert the account unless it exists; a user account only for a user of this tenant.

    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: two callers racing to create the same
    account both succeed and find one row.
    """
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    columns = ["tenant_id", "kind", "user_id", "owner_key", "balance", "reserved", "created_at"]
    values: list[Any] = [
        literal(tenant_id, BigInteger),
        literal(kind.value, String),
        literal(user_id, BigInteger),
        literal(user_id or 0, BigInteger),
        literal(0, BigInteger),
        literal(0, BigInteger),
        literal(utcnow(), UTCDateTime),
    ]
    source: Select[Any] = select(*values)
    if user_id is not None:
        source = source.where(exists().where(users.c.id == user_id, users.c.tenant_id == tenant_id))
    stmt = dialect_insert(accounts).from_select(columns, source).on_conflict_do_nothing()
    await conn.execute(stmt)


def _entry_sums() -> Any:
    return (
        select(
            entries.c.account_id,
            func.coalesce(func.sum(entries.c.amount), 0).label("entry_balance"),
            func.coalesce(func.sum(entries.c.reserved_delta), 0).label("entry_reserved"),
        )
        .group_by(entries.c.account_id)
        .subquery("sums")
    )


async def balance_mismatches(conn: AsyncConnection, tenant_id: int | None) -> list[Any]:
    """Accounts whose stored balance or reserved differ from the sum of their entries.

    One statement, so one snapshot: concurrent movements never show up as false mismatches.
    """
    sums = _entry_sums()
    entry_balance = func.coalesce(sums.c.entry_balance, 0)
    entry_reserved = func.coalesce(sums.c.entry_reserved, 0)
    stmt = (
        select(
            accounts.c.id,
            accounts.c.tenant_id,
            accounts.c.balance,
            accounts.c.reserved,
            entry_balance.label("entry_balance"),
            entry_reserved.label("entry_reserved"),
        )
        .select_from(accounts.outerjoin(sums, sums.c.account_id == accounts.c.id))
        .where(or_(accounts.c.balance != entry_balance, accounts.c.reserved != entry_reserved))
        .order_by(accounts.c.id)
    )
    if tenant_id is not None:
        stmt = stmt.where(accounts.c.tenant_id == tenant_id)
    return list((await conn.execute(stmt)).all())


async def totals(conn: AsyncConnection, tenant_id: int | None) -> Any:
    """Sums over accounts and over entries, taken in one statement (one snapshot)."""
    account_filter = true() if tenant_id is None else accounts.c.tenant_id == tenant_id
    entry_filter = true() if tenant_id is None else entries.c.tenant_id == tenant_id
    acc = (
        select(
            func.count().label("accounts"),
            func.coalesce(func.sum(accounts.c.balance), 0).label("balance"),
            func.coalesce(func.sum(accounts.c.reserved), 0).label("reserved"),
            func.count()
            .filter(
                or_(
                    accounts.c.balance < 0,
                    accounts.c.reserved < 0,
                    accounts.c.reserved > accounts.c.balance,
                )
            )
            .label("invalid_accounts"),
        )
        .where(account_filter)
        .subquery("acc")
    )
    ent = (
        select(
            func.count().label("entries"),
            func.coalesce(func.sum(entries.c.amount), 0).label("entry_balance"),
            func.coalesce(func.sum(entries.c.reserved_delta), 0).label("entry_reserved"),
        )
        .where(entry_filter)
        .subquery("ent")
    )
    stmt = select(acc, ent).select_from(acc.join(ent, true()))
    return (await conn.execute(stmt)).one()
