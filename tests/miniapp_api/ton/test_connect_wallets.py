"""The wallets the Mini App adds to TON Connect UI's list: the configured wallets list (in
``atelier dev`` the TON stand-in's test wallet), in the shape ``includeWallets`` takes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devtools.ton import TonSettings, running_ton
from tests.miniapp_api.auth.helpers import add_bot, sign_in
from tests.miniapp_api.conftest import MakeClient

Factory = async_sessionmaker[AsyncSession]


async def test_the_configured_wallets_list_reaches_ton_connect_ui(
    make_client: MakeClient, session_factory: Factory
) -> None:
    async with running_ton(TonSettings()) as (ton_url, _):
        wallets_url = f"{ton_url}/tonconnect/wallets-v2.json"
        async with make_client(ton_connect_wallets_url=wallets_url) as client:
            bot = await add_bot(session_factory)
            fan = await sign_in(client, bot)
            assert (await client.get("/api/v1/ton/connect-wallets")).status_code == 401
            response = await client.get("/api/v1/ton/connect-wallets", headers=fan.headers)
    assert response.status_code == 200
    [wallet] = response.json()["items"]
    assert wallet["appName"] == "atelier-test-wallet"
    assert wallet["bridgeUrl"] == f"{ton_url}/bridge"
    assert wallet["universalLink"] == f"{ton_url}/wallet"
    assert wallet["imageUrl"].endswith("/tonconnect/icon.png") and "chrome" in wallet["platforms"]


async def test_without_a_configured_list_nothing_is_added(
    make_client: MakeClient, session_factory: Factory
) -> None:
    async with make_client(ton_connect_wallets_url=None) as client:
        fan = await sign_in(client, await add_bot(session_factory))
        response = await client.get("/api/v1/ton/connect-wallets", headers=fan.headers)
    assert response.json() == {"items": []}  # TON Connect UI's own list only
