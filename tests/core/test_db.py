"""Sessions for reads: no transaction, so no BEGIN and no COMMIT round trips."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import read_scope, session_scope

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
