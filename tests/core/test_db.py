"""Sessions for reads: no transaction, so no BEGIN and no COMMIT round trips."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, create_session_factory, read_scope, session_scope
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
