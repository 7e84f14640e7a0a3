"""Database engine, sessions and the declarative base shared by every model.

PostgreSQL (asyncpg) in production and tests, SQLite (aiosqlite) for ``atelier dev``. Sessions
never commit inside services: the edge that opened the session (API dependency, bot middleware,
job wrapper) commits or rolls back through :func:`session_scope`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Select,
    event,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from core.settings import Settings, get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that comes back aware on SQLite too (it stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# SQLite only auto-increments INTEGER PRIMARY KEY, so big ids are INTEGER there.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


# CURRENT_TIMESTAMP, not now(): the same DDL must work on PostgreSQL and SQLite.
SERVER_NOW = text("CURRENT_TIMESTAMP")


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)


class TenantOwned:
    """Mixin for every row that belongs to a tenant; queries go through :func:`tenant_select`."""

    #: False where a UNIQUE constraint already leads with ``tenant_id``: a second index on
    #: it only slows writes and can lure the planner away from the unique index.
    tenant_id_indexed: ClassVar[bool] = True

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(
            BigIntId,
            ForeignKey("tenants.id", ondelete="CASCADE"),
            index=cls.tenant_id_indexed,
            nullable=False,
        )


ModelT = TypeVar("ModelT", bound=TenantOwned)


def tenant_select(model: type[ModelT], tenant_id: int) -> Select[ModelT]:
    """The one place that starts a query on a tenant-owned table: the tenant filter comes first."""
    return select(model).where(model.tenant_id == tenant_id)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def create_engine(
    settings: Settings | None = None, *, url: str | None = None, for_reads: bool = False
) -> AsyncEngine:
    """The engine of a process. ``for_reads``: a second, smaller pool for
    :func:`read_scope`, whose PostgreSQL connections plan every statement for its values
    (``plan_cache_mode = force_custom_plan``, set when they connect). asyncpg prepares each
    statement, and after five runs PostgreSQL may switch it to a generic plan built from
    averages: for "one fan's files in one folder" it expects a row or two, and then took an
    index in the wrong order and sorted a 30,000-file folder (70-140 ms instead of 1).
    Setting it per transaction instead (``SET LOCAL``) costs a round trip and the transaction's
    own two."""
    settings = settings or get_settings()
    url = url or settings.database_url
    if url.startswith("sqlite"):  # (reads share the main engine there: see miniapp_api.app)
        engine = create_async_engine(url, echo=settings.db_echo)
        _configure_sqlite(engine)
        return engine
    size = max(2, settings.db_pool_size // 2) if for_reads else settings.db_pool_size
    custom_plans = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
    return create_async_engine(
        url,
        echo=settings.db_echo,
        pool_size=size,
        max_overflow=size,
        # No pre-ping: on asyncpg it costs three round trips per checkout (a third of the
        # ledger's throughput); recycling bounds the age of a connection instead.
        pool_recycle=1800,
        connect_args=custom_plans if for_reads else {},
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Open a session for one unit of work: commit on success, roll back on any error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


_DRIVER = "atelier.driver_connection"
"""``session.info`` key of a read session's asyncpg connection and dialect (:func:`fetch_rows`):
asking the session for them costs two greenlet hops a statement."""


@asynccontextmanager
async def read_scope(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Open a session that only reads: each statement commits on its own (``AUTOCOMMIT``), so
    there is no ``BEGIN`` and no ``COMMIT`` — two of a drive page's four round trips. Give it
    the factory of the reads engine (``create_engine(for_reads=True)``) where statements must
    be planned for their values.

    Nothing is atomic here: two statements may see different snapshots, and a write would
    commit at once. Anything that writes, or needs its reads to agree, uses
    :func:`session_scope`."""
    session = factory()
    try:
        connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        if connection.dialect.name == "postgresql":  # for fetch_rows, found once
            raw = await connection.get_raw_connection()
            session.info[_DRIVER] = (raw.driver_connection, connection.dialect)
        yield session
    finally:
        session.info.pop(_DRIVER, None)
        # Not ``async with``: it closes in a task of its own, shielded from cancellation
        # (~0.1 ms a request). With no transaction, handing the connection back to the pool
        # does no I/O, so there is no await a cancellation could interrupt.
        await session.close()


@dataclass(frozen=True, slots=True)
class _DriverStatement:
    sql: str  # with $n placeholders
    names: tuple[str, ...]  # the parameters in placeholder order
    constants: dict[str, Any]  # values the statement carries itself (literals)


@lru_cache(maxsize=512)
def _driver_statement(statement: Select[Any], dialect: Dialect) -> _DriverStatement:
    """``statement`` compiled once for the driver. Statements are kept by identity: build each
    once (as the drive's ``functools.cache``d ones are), or it is compiled on every call."""
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    binds = {name: compiled.binds[name] for name in names}
    if any(bind.expanding for bind in binds.values()):
        raise ValueError("fetch_rows cannot run expanding (IN) parameters")
    constants = {name: b.effective_value for name, b in binds.items() if not b.required}
    return _DriverStatement(str(compiled), names, constants)


async def fetch_rows(
    session: AsyncSession, statement: Select[Any], values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of a read-only ``statement`` as sequences of column values.

    On PostgreSQL the statement (compiled once, so build it once) runs on the asyncpg
    connection itself: SQLAlchemy's execution layer (result objects, per-column processors,
    two greenlet switches) cost ~0.7 ms over asyncpg's own for a page of a hundred files, a
    third of the drive's share of a page. So only for statements whose values need no bind
    processing and whose columns none on the way out: integers, text, ``timestamptz`` (aware
    datetimes, as :class:`UTCDateTime` returns them), arrays, and JSON (decoded in the driver
    by SQLAlchemy's connection set-up). On SQLite it is an ordinary execution."""
    found = session.info.get(_DRIVER)
    if found is None:
        connection = await session.connection()
        if connection.dialect.name != "postgresql":
            result = await connection.execute(statement, dict(values))
            return result.all()  # type: ignore[no-any-return]
        raw = await connection.get_raw_connection()
        found = raw.driver_connection, connection.dialect
    driver: Any = found[0]
    dialect: Dialect = found[1]
    compiled = _driver_statement(statement, dialect)
    given = {**compiled.constants, **values}
    rows: Sequence[Sequence[Any]] = await driver.fetch(
        compiled.sql, *(given[name] for name in compiled.names)
    )
    return rows
