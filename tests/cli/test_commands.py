"""The ``atelier`` command as a person runs it: real processes, one clear line per mistake."""

import asyncio
import os
import sys
from pathlib import Path

import pytest

from devtools.telegram.testing import running_emulator

ATELIER = [sys.executable, "-m", "cli"]


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *ATELIER,
        *args,
        env={**os.environ, "ATELIER_ENVIRONMENT": "test", "COLUMNS": "200", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, output.decode()


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"ATELIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


def assert_one_clear_line(output: str, expected: str) -> None:
    assert "Traceback" not in output
    assert expected in output
    assert len(output.strip().splitlines()) == 1, output


async def test_upgrade_add_and_list_tenants(sqlite_env: dict[str, str]) -> None:
    code, output = await run_cli("db", "upgrade", env=sqlite_env)
    assert code == 0, output
    async with running_emulator() as (base_url, client):
        bot = await client.create_bot(username="cli_demo_bot", first_name="CLI Demo")
        env = {**sqlite_env, "ATELIER_TELEGRAM_API_BASE": base_url}
        code, output = await run_cli(
            "tenants", "add", "--token", bot.token, "--plan", "premium", env=env
        )
        assert code == 0, output
        assert "@cli_demo_bot" in output
        assert bot.token not in output

        code, output = await run_cli("tenants", "add", "--token", bot.token, env=env)
        assert code == 1
        assert_one_clear_line(output, "already connected")

    code, output = await run_cli("tenants", "list", env=sqlite_env)
    assert code == 0, output
    assert "@cli_demo_bot" in output and "premium" in output and "active" in output


async def test_malformed_token_is_one_clear_line(sqlite_env: dict[str, str]) -> None:
    await run_cli("db", "upgrade", env=sqlite_env)
    code, output = await run_cli("tenants", "add", "--token", "not-a-token", env=sqlite_env)
    assert code == 1
    assert_one_clear_line(output, "does not look like a bot token")


async def test_missing_schema_says_to_migrate(sqlite_env: dict[str, str]) -> None:
    code, output = await run_cli("tenants", "list", env=sqlite_env)
    assert code == 1
    assert_one_clear_line(output, "atelier db upgrade")


async def test_unreachable_database_is_one_clear_line() -> None:
    env = {"ATELIER_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"}
    code, output = await run_cli("db", "upgrade", env=env)
    assert code == 1
    assert_one_clear_line(output, "cannot reach the database")


async def test_invalid_setting_is_one_clear_line() -> None:
    code, output = await run_cli("tenants", "list", env={"ATELIER_ENVIRONMENT": "staging-ish"})
    assert code == 1
    assert_one_clear_line(output, "ATELIER_ENVIRONMENT")
