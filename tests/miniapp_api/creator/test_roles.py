"""The creator panel's door: the owner and co-admins get in, fans get 403, and the owner alone
manages co-admins. Roles are the same ones the bot's admin commands use."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Tenant
from tenants import admins
from tests.miniapp_api.auth.helpers import add_bot, sign_in

Factory = async_sessionmaker[AsyncSession]
OWNER = 5_500_001


async def test_owner_sees_the_panel_and_fans_get_403(
    client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    owner = await sign_in(client, bot, OWNER)
    fan = await sign_in(client, bot)

    me = await client.get("/api/v1/creator/me", headers=owner.headers)
    assert me.status_code == 200
    assert me.json()["role"] == "owner"
    assert me.json()["tenant_id"] == bot.tenant_id

    refused = await client.get("/api/v1/creator/me", headers=fan.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert (await client.get("/api/v1/creator/me")).status_code == 401


async def test_owner_adds_and_removes_a_co_admin(
    client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    owner = await sign_in(client, bot, OWNER)
    helper = await sign_in(client, bot)

    assert (await client.get("/api/v1/creator/me", headers=helper.headers)).status_code == 403
    added = await client.post(
        "/api/v1/creator/admins", json={"telegram_id": helper.telegram_id}, headers=owner.headers
    )
    assert added.status_code == 201, added.text
    me = await client.get("/api/v1/creator/me", headers=helper.headers)
    assert me.status_code == 200 and me.json()["role"] == "admin"

    listed = await client.get("/api/v1/creator/admins", headers=helper.headers)
    assert [(a["telegram_id"], a["role"]) for a in listed.json()["items"]] == [
        (OWNER, "owner"),
        (helper.telegram_id, "admin"),
    ]
    again = await client.post(
        "/api/v1/creator/admins", json={"telegram_id": helper.telegram_id}, headers=owner.headers
    )
    assert again.status_code == 409

    # A co-admin cannot manage admins, not even remove themselves behind the owner's back.
    denied = await client.delete(
        f"/api/v1/creator/admins/{helper.telegram_id}", headers=helper.headers
    )
    assert denied.status_code == 403
    removed = await client.delete(
        f"/api/v1/creator/admins/{helper.telegram_id}", headers=owner.headers
    )
    assert removed.status_code == 204
    assert (await client.get("/api/v1/creator/me", headers=helper.headers)).status_code == 403
    gone = await client.delete(
        f"/api/v1/creator/admins/{helper.telegram_id}", headers=owner.headers
    )
    assert gone.status_code == 404


async def test_admin_of_one_tenant_is_a_fan_in_another(
    client: httpx.AsyncClient, session_factory: Factory
) -> None:
    first = await add_bot(session_factory, owner_telegram_id=OWNER)
    second = await add_bot(session_factory, owner_telegram_id=OWNER + 1)
    owner = await sign_in(client, first, OWNER)
    await client.post(
        "/api/v1/creator/admins", json={"telegram_id": 777_001}, headers=owner.headers
    )
    elsewhere = await sign_in(client, second, 777_001)
    assert (await client.get("/api/v1/creator/me", headers=elsewhere.headers)).status_code == 403
    # The owner of the first bot is nobody special in the second.
    visitor = await sign_in(client, second, OWNER)
    assert (await client.get("/api/v1/creator/me", headers=visitor.headers)).status_code == 403


async def test_bad_admin_ids_are_refused(
    client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    owner = await sign_in(client, bot, OWNER)
    for body in ({"telegram_id": 0}, {"telegram_id": "abc"}, {}):
        response = await client.post("/api/v1/creator/admins", json=body, headers=owner.headers)
        assert response.status_code == 422, body
        assert "error" in response.json()
    itself = await client.post(
        "/api/v1/creator/admins", json={"telegram_id": OWNER}, headers=owner.headers
    )
    assert itself.status_code == 409


async def test_role_of_reads_owner_and_co_admins(session_factory: Factory) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    async with session_factory() as session:
        tenant = await session.get(Tenant, bot.tenant_id)
        assert tenant is not None
        await admins.add_admin(session, tenant, by_telegram_id=OWNER, telegram_id=42)
        await session.commit()
        assert await admins.role_of(session, tenant, OWNER) is admins.Role.OWNER
        assert await admins.role_of(session, tenant, 42) is admins.Role.ADMIN
        assert await admins.role_of(session, tenant, 43) is admins.Role.FAN
