"""Signing in with Telegram initData: the happy path and every way it must fail (401)."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import User
from devtools.telegram import EMULATOR_PUBLIC_KEY
from devtools.telegram.initdata import build_init_data
from miniapp_api.auth import service
from tests.miniapp_api.auth.helpers import add_bot, init_data, sign_in

URL = "/api/v1/auth/telegram"


def test_emulator_key_matches_devtools() -> None:
    assert service.EMULATOR_PUBLIC_KEY == EMULATOR_PUBLIC_KEY


async def test_sign_in_creates_the_fan_once(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    bot = await add_bot(session_factory)
    first = await sign_in(client, bot, telegram_id=4242)
    again = await sign_in(client, bot, telegram_id=4242)
    assert first.user_id == again.user_id
    me = await client.get("/api/v1/auth/me", headers=first.headers)
    assert me.status_code == 200
    assert me.json()["tenant_id"] == bot.tenant_id
    async with session_factory() as session:
        users = (await session.scalars(select(User).where(User.telegram_id == 4242))).all()
    assert [(u.tenant_id, u.first_name) for u in users] == [(bot.tenant_id, "Ada")]


async def test_signature_alone_is_accepted(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Third-party validation: a wrong ``hash`` but the Ed25519 ``signature`` of the test key."""
    bot = await add_bot(session_factory)
    fields = dict(parse_qsl(init_data(bot, 99)))
    fields["hash"] = "0" * 64
    response = await client.post(URL, json={"bot_id": bot.bot_id, "init_data": urlencode(fields)})
    assert response.status_code == 200


async def test_emulator_key_refused_in_production() -> None:
    from core.settings import Environment, Settings

    prod = Settings(environment=Environment.TEST).model_copy(
        update={"environment": Environment.PRODUCTION}
    )
    assert EMULATOR_PUBLIC_KEY not in service.signature_keys(prod)


def _tamper(data: str) -> str:
    fields = dict(parse_qsl(data))
    fields["user"] = fields["user"].replace('"id":', '"id":1')
    return urlencode(fields)


def _without_signatures(data: str) -> str:
    fields = dict(parse_qsl(data))
    fields.pop("hash")
    fields.pop("signature")
    return urlencode(fields)


@pytest.mark.parametrize(
    "case", ["tampered", "stale", "future", "missing", "empty", "other_bot", "unsigned", "garbage"]
)
async def test_bad_init_data_is_401(
    case: str, client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    bot = await add_bot(session_factory)
    other = await add_bot(session_factory)
    good = init_data(bot, 7)
    user = {"id": 7, "first_name": "Ada"}
    bodies = {
        "tampered": {"bot_id": bot.bot_id, "init_data": _tamper(good)},
        "stale": {
            "bot_id": bot.bot_id,
            "init_data": build_init_data(
                bot_id=bot.bot_id, bot_token=bot.token, user=user, auth_date=int(time.time()) - 3700
            ),
        },
        "future": {
            "bot_id": bot.bot_id,
            "init_data": build_init_data(
                bot_id=bot.bot_id, bot_token=bot.token, user=user, auth_date=int(time.time()) + 600
            ),
        },
        "missing": {"bot_id": bot.bot_id, "init_data": ""},
        "empty": {"bot_id": 999_999_999, "init_data": good},
        "other_bot": {"bot_id": other.bot_id, "init_data": good},
        "unsigned": {"bot_id": bot.bot_id, "init_data": _without_signatures(good)},
        "garbage": {"bot_id": bot.bot_id, "init_data": "%%%&&&==="},
    }
    response = await client.post(URL, json=bodies[case])
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_init_data"


async def test_missing_body_fields_are_422(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json={"init_data": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer nonsense", "Basic abc", "Bearer a.b", "Bearer x" * 3]
)
async def test_endpoints_need_a_valid_token(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await client.get("/api/v1/drive/list", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


async def test_expired_and_forged_tokens(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from miniapp_api.auth.tokens import issue_token
    from tests.conftest import TEST_SECRET_KEY

    bot = await add_bot(session_factory)
    fan = await sign_in(client, bot)
    expired, _ = issue_token(
        tenant_id=bot.tenant_id,
        user_id=fan.user_id,
        telegram_id=fan.telegram_id,
        bot_id=bot.bot_id,
        ttl=60,
        secret_key=TEST_SECRET_KEY,
        now=time.time() - 120,
    )
    forged, _ = issue_token(
        tenant_id=bot.tenant_id,
        user_id=fan.user_id,
        telegram_id=fan.telegram_id,
        bot_id=bot.bot_id,
        ttl=60,
        secret_key="another-secret-key-of-some-attacker",
    )
    for token in (expired, forged):
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_disabled_tenant_cannot_sign_in(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    bot = await add_bot(session_factory, is_active=False)
    response = await client.post(URL, json={"bot_id": bot.bot_id, "init_data": init_data(bot, 5)})
    assert response.status_code == 401


async def test_the_language_chosen_in_the_app_is_the_bots_too(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    redis_url: str,
) -> None:
    import redis.asyncio as redis_asyncio

    from tenants.users import snapshot_key

    bot = await add_bot(session_factory)
    fan = await sign_in(client, bot, telegram_id=5151)
    cache = redis_asyncio.from_url(redis_url)
    try:
        await cache.set(snapshot_key(bot.tenant_id, 5151), b"stale")
        answer = await client.put(
            "/api/v1/auth/language", json={"language": "ar"}, headers=fan.headers
        )
        assert answer.status_code == 204, answer.text
        assert await cache.get(snapshot_key(bot.tenant_id, 5151)) is None
    finally:
        await cache.aclose()
    async with session_factory() as session:
        language = await session.scalar(select(User.language).where(User.id == fan.user_id))
    assert language == "ar"
    again = await client.post(URL, json={"bot_id": bot.bot_id, "init_data": init_data(bot, 5151)})
    assert again.json()["user"]["language"] == "ar"

    unknown = await client.put(
        "/api/v1/auth/language", json={"language": "xx"}, headers=fan.headers
    )
    assert unknown.status_code == 422
    anonymous = await client.put("/api/v1/auth/language", json={"language": "tr"})
    assert anonymous.status_code == 401
