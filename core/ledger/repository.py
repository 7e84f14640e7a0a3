"""All SQL of the ledger, as SQLAlchemy Core statements built once and reused.

The hot path is one statement on PostgreSQL: a conditional ``UPDATE`` of the account row and the
``INSERT`` of its entry in a data-modifying CTE, so the account row lock is taken as late as
possible and the caller's ``COMMIT`` follows right after. SQLite cannot put DML in a CTE, so
there the same two steps run as two statements inside the caller's transaction (SQLite
serialises writers anyway).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, cast

import asyncpg
from sqlalchemy import (
    JSON,
    BigInteger,
    Insert,
    Select,
    String,
    Table,
    Text,
    Update,
    bindparam,
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


def _conditional_update() -> Update:
    """Move the row only if the result keeps ``0 <= reserved <= balance`` and the key is unused.

    The key guard keeps a sequential replay from touching (and locking) the account at all; a
    replay racing the first call gets past it and is caught by the unique key on insert instead.
    """
    amount = bindparam("m_amount", type_=BigInteger)
    reserved_delta = bindparam("m_reserved_delta", type_=BigInteger)
    key_used = exists().where(
        entries.c.tenant_id == bindparam("m_tenant_id", type_=BigInteger),
        entries.c.idempotency_key == bindparam("m_idempotency_key", type_=String),
    )
    return (
        update(accounts)
        .where(
            accounts.c.id == bindparam("m_account_id", type_=BigInteger),
            accounts.c.tenant_id == bindparam("m_tenant_id", type_=BigInteger),
            accounts.c.balance + amount >= accounts.c.reserved + reserved_delta,
            accounts.c.reserved + reserved_delta >= literal_column("0"),
            ~key_used,
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
    compiled = _pg_move_statement(strict=strict).compile(dialect=dialect)
    assert compiled.positiontup is not None
    return str(compiled), tuple(compiled.positiontup)


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
    params = movement.params()
    strict = txn is Txn.OWN
    driver_level = txn is not Txn.SESSION and conn.dialect.driver == "asyncpg"
    if conn.dialect.name == "postgresql" and driver_level:
        sql, order = _asyncpg_sql(conn.dialect, strict=strict)
        params["m_meta"] = json.dumps(params["m_meta"])
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        try:
            record = await driver.fetchrow(sql, *(params[name] for name in order))
        except asyncpg.UniqueViolationError:
            if not strict:
                raise
            return Applied(moved=False)  # key or settlement taken meanwhile; nothing moved
        if record is None:
            return Applied(moved=False)
        return Applied(True, record["entry_id"], record["balance"], record["reserved"])
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
