"""Sessions for reads: no transaction, so no BEGIN and no COMMIT round trips."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import JSON, String, bindparam, cast, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import (
    UTCDateTime,
    create_engine,
    create_session_factory,
    fetch_rows,
    read_scope,
    session_scope,
)
from core.settings import Settings

# now() is the start of the current transaction: equal in two statements of one transaction,
# different when each statement is a transaction of its own.
TWO_STATEMENTS = ("SELECT now()", "SELECT pg_sleep(0.01)", "SELECT now()")


async def _times(session: AsyncSession) -> list[object]:
    return [(await session.execute(text(sql))).scalar() for sql in TWO_STATEMENTS][::2]


async def test_a_read_session_runs_each_statement_on_its_own(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with read_scope(session_factory) as session:
        first, second = await _times(session)
    assert first != second
    async with session_scope(session_factory) as session:
        first, second = await _times(session)
    assert first == second


async def test_a_pooled_connection_goes_back_to_transactions_after_a_read_session(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    for _ in range(3):  # whichever pooled connection comes next
        async with read_scope(session_factory) as session:
            await session.execute(text("SELECT 1"))
        async with session_scope(session_factory) as session:
            first, second = await _times(session)
        assert first == second


async def test_the_reads_engine_plans_every_statement_for_its_values(settings: Settings) -> None:
    """A generic plan of "one fan's files in one folder" sorts a big folder (see
    core.drive.repository): the reads engine's connections never use one."""
    reads, main = create_engine(settings, for_reads=True), create_engine(settings)
    try:
        for engine, mode in ((reads, "force_custom_plan"), (main, "auto")):
            async with read_scope(create_session_factory(engine)) as session:
                assert (await session.execute(text("SHOW plan_cache_mode"))).scalar() == mode
    finally:
        await reads.dispose()
        await main.dispose()


STATEMENT = select(
    literal(7),  # a constant of the statement itself
    bindparam("word", type_=String),
    cast(literal("2026-11-22T05:00:00+03:00"), UTCDateTime),
    cast(literal('{"tool": "draw", "steps": [1, 2]}'), JSON),
    func.string_to_array(bindparam("csv", type_=String), literal(",")),
)


async def test_fetch_rows_reads_what_sqlalchemy_reads(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """On PostgreSQL fetch_rows runs on the driver: its rows must be SQLAlchemy's, value for
    value (constants, parameters, aware datetimes, decoded JSON, arrays), every time."""
    values = {"word": "hi", "csv": "a,b"}
    async with read_scope(session_factory) as session:
        expected = [tuple(row) for row in (await session.execute(STATEMENT, values)).all()]
        for _ in range(3):  # compiled once, then reused
            rows = await fetch_rows(session, STATEMENT, values)
            assert [tuple(row) for row in rows] == expected
    async with session_factory() as session:  # any session: it finds the driver itself
        assert [tuple(row) for row in await fetch_rows(session, STATEMENT, values)] == expected
    assert expected[0][2].utcoffset() == timedelta(0)
    assert expected[0][3] == {"tool": "draw", "steps": [1, 2]}


async def test_fetch_rows_refuses_expanding_parameters(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    statement = select(literal(1)).where(literal(1).in_(bindparam("ids", expanding=True)))
    async with read_scope(session_factory) as session:
        with pytest.raises(ValueError, match="expanding"):
            await fetch_rows(session, statement, {"ids": [1]})
