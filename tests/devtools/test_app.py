"""The app mounted under a prefix (as ``atelier dev`` does) and the ``atelier emulator`` command."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from typer.testing import CliRunner

from devtools.serving import serve_app
from devtools.telegram import create_app


async def test_mounted_under_a_prefix() -> None:
    emulator_app = create_app()
    host = FastAPI()
    host.mount("/telegram", emulator_app)
    async with serve_app(host) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        created = (
            await http.post(
                "/telegram/_emulator/bots", json={"username": "m_bot", "first_name": "M"}
            )
        ).json()
        me = (await http.get(f"/telegram/bot{created['token']}/getMe")).json()
        assert me["result"]["username"] == "m_bot"
        page = await http.get("/telegram/")
        assert page.status_code == 200 and 'src="static/app.js"' in page.text
        assert (await http.get("/telegram/static/app.js")).status_code == 200
    await emulator_app.state.emulator.close()


def test_cli_command_is_registered() -> None:
    from cli.main import app

    result = CliRunner().invoke(app, ["emulator", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--host" in result.output and "8081" in result.output
