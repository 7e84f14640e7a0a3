"""``atelier stats backfill`` as a person runs it, on SQLite."""

from __future__ import annotations

from tests.cli.test_commands import assert_one_clear_line, run_cli, sqlite_env

__all__ = ["sqlite_env"]


async def test_backfill_rebuilds_the_rollups(sqlite_env: dict[str, str]) -> None:
    code, output = await run_cli("db", "upgrade", env=sqlite_env)
    assert code == 0, output
    code, output = await run_cli("stats", "backfill", "--days", "40", env=sqlite_env)
    assert code == 0, output
    assert "stats rebuilt for the last 40 days of every tenant: 0 rows" in output


async def test_backfill_without_a_schema_says_to_migrate(sqlite_env: dict[str, str]) -> None:
    code, output = await run_cli("stats", "backfill", env=sqlite_env)
    assert code == 1
    assert_one_clear_line(output, "run `atelier db upgrade`")
