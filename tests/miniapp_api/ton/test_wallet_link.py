"""Linking a TON wallet from the Mini App: a single-use payload, a verified ``ton_proof``, one
wallet per fan and one fan per wallet in a tenant; unlinking."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import redis.asyncio as redis_asyncio
from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import TonWallet
from core.settings import TonNetwork
from core.ton.address import parse_address
from tenants.ton.service import payload_key
from tests.core.ton.helpers import SampleWallet, make_wallet, proof_body
from tests.core.ton.toncenter_server import LocalToncenter
from tests.miniapp_api.auth.helpers import Fan
from tests.miniapp_api.ton.conftest import Fans

Client = httpx.AsyncClient


async def _payload(client: Client, fan: Fan) -> str:
    response = await client.post("/api/v1/ton/proof-payload", headers=fan.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_at"] > time.time()
    payload: str = body["payload"]
    return payload


async def _link(client: Client, fan: Fan, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/ton/wallet", json=body, headers=fan.headers)


async def _linked(client: Client, fan: Fan) -> dict[str, Any] | None:
    response = await client.get("/api/v1/ton/wallet", headers=fan.headers)
    assert response.status_code == 200
    wallet: dict[str, Any] | None = response.json()["wallet"]
    return wallet


async def _link_fresh(
    client: Client, fan: Fan, wallet: SampleWallet, **forged: Any
) -> httpx.Response:
    return await _link(client, fan, proof_body(wallet, await _payload(client, fan), **forged))


def _refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("version", ["v3r2", "v4r2", "v5r1"])
async def test_link_a_wallet(
    ton_client: Client,
    fans: Fans,
    session_factory: async_sessionmaker[AsyncSession],
    version: str,
) -> None:
    wallet = make_wallet(version)
    assert await _linked(ton_client, fans.alice) is None

    response = await _link_fresh(ton_client, fans.alice, wallet)
    assert response.status_code == 200, response.text
    linked = response.json()
    friendly = parse_address(wallet.raw_address).wallet_form(TonNetwork.MAINNET)
    assert linked["address"] == friendly and friendly.startswith("UQ")
    assert linked["address_raw"] == wallet.raw_address
    assert linked["public_key"] == wallet.public_key.hex()
    assert (linked["network"], linked["wallet_version"]) == ("mainnet", version)
    assert await _linked(ton_client, fans.alice) == linked

    async with session_factory() as session:
        rows = (await session.scalars(select(TonWallet))).all()
    assert [(r.tenant_id, r.user_id, r.address_raw) for r in rows] == [
        (fans.alice.bot.tenant_id, fans.alice.user_id, wallet.raw_address)
    ]


async def test_a_payload_works_once(ton_client: Client, fans: Fans) -> None:
    wallet = make_wallet()
    body = proof_body(wallet, await _payload(ton_client, fans.alice))
    assert (await _link(ton_client, fans.alice, body)).status_code == 200
    _refused(await _link(ton_client, fans.alice, body), 400, "ton_proof_unknown_payload")


async def test_forged_payloads_are_refused(ton_client: Client, fans: Fans) -> None:
    wallet = make_wallet()
    for payload in ("ab" * 32, "not-a-payload-we-issue"):
        response = await _link(ton_client, fans.alice, proof_body(wallet, payload))
        _refused(response, 400, "ton_proof_unknown_payload")
    assert await _linked(ton_client, fans.alice) is None


async def test_a_payload_is_bound_to_the_fan_who_asked(ton_client: Client, fans: Fans) -> None:
    for thief in (fans.bob, fans.carol):  # same tenant, another tenant
        stolen = await _payload(ton_client, fans.alice)
        response = await _link(ton_client, thief, proof_body(make_wallet(), stolen))
        _refused(response, 400, "ton_proof_unknown_payload")
        assert await _linked(ton_client, thief) is None


async def test_a_payload_expires(ton_client: Client, fans: Fans, redis_url: str) -> None:
    payload = await _payload(ton_client, fans.alice)
    client = redis_asyncio.from_url(redis_url)
    try:
        assert 890 <= await client.ttl(payload_key(payload)) <= 900
    finally:
        await client.aclose()


def _forgeries(wallet: SampleWallet) -> dict[str, tuple[dict[str, Any], str]]:
    now = int(time.time())
    attacker = make_wallet()
    thief_key = SigningKey.generate()
    return {
        "wrong domain": ({"domain": "evil.example"}, "ton_proof_wrong_domain"),
        "stale": ({"timestamp": now - 901}, "ton_proof_expired"),
        "future": ({"timestamp": now + 600}, "ton_proof_future_timestamp"),
        "key mismatch": (
            {"signing_key": thief_key, "public_key": bytes(thief_key.verify_key)},
            "ton_proof_public_key_mismatch",
        ),
        "stateInit of another wallet": (
            {
                "signing_key": attacker.signing_key,
                "public_key": attacker.public_key,
                "state_init": attacker.state_init_b64,
            },
            "ton_proof_state_init_mismatch",
        ),
        "testnet": ({"network": "-3"}, "ton_proof_wrong_network"),
        "bad signature": ({"signing_key": thief_key}, "ton_proof_bad_signature"),
    }


async def test_each_forgery_is_refused_for_its_reason(ton_client: Client, fans: Fans) -> None:
    wallet = make_wallet()
    for name, (forged, code) in _forgeries(wallet).items():
        response = await _link_fresh(ton_client, fans.alice, wallet, **forged)
        assert response.status_code == 400, name
        assert response.json()["error"]["code"] == code, name
    assert await _linked(ton_client, fans.alice) is None
    assert (await _link_fresh(ton_client, fans.alice, wallet)).status_code == 200


async def test_the_timestamp_may_be_a_string(ton_client: Client, fans: Fans) -> None:
    """The spec's wire value is a decimal string; the SDK's is a number. Both work."""
    body = proof_body(make_wallet(), await _payload(ton_client, fans.alice))
    body["proof"]["timestamp"] = str(body["proof"]["timestamp"])
    assert (await _link(ton_client, fans.alice, body)).status_code == 200


async def test_one_fan_per_wallet_in_a_tenant(ton_client: Client, fans: Fans) -> None:
    wallet = make_wallet()
    assert (await _link_fresh(ton_client, fans.alice, wallet)).status_code == 200
    _refused(await _link_fresh(ton_client, fans.bob, wallet), 409, "ton_wallet_taken")
    assert await _linked(ton_client, fans.bob) is None
    # Another tenant is another business: its fan may link the same wallet.
    carol = await _link_fresh(ton_client, fans.carol, wallet)
    assert carol.status_code == 200
    assert (await _linked(ton_client, fans.alice))["address_raw"] == wallet.raw_address  # type: ignore[index]


async def test_two_fans_racing_for_one_wallet(ton_client: Client, fans: Fans) -> None:
    wallet = make_wallet()
    bodies = [proof_body(wallet, await _payload(ton_client, fan)) for fan in (fans.alice, fans.bob)]
    responses = await asyncio.gather(
        _link(ton_client, fans.alice, bodies[0]), _link(ton_client, fans.bob, bodies[1])
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    winners = [fan for fan in (fans.alice, fans.bob) if await _linked(ton_client, fan)]
    assert len(winners) == 1


async def test_linking_another_wallet_replaces_the_first(ton_client: Client, fans: Fans) -> None:
    first, second = make_wallet("v4r2"), make_wallet("v5r1")
    assert (await _link_fresh(ton_client, fans.alice, first)).status_code == 200
    assert (await _link_fresh(ton_client, fans.alice, second)).status_code == 200
    assert (await _linked(ton_client, fans.alice))["address_raw"] == second.raw_address  # type: ignore[index]
    # The first wallet is free again for another fan of the tenant.
    assert (await _link_fresh(ton_client, fans.bob, first)).status_code == 200


async def test_unlink(ton_client: Client, fans: Fans) -> None:
    wallet = make_wallet()
    assert (await _link_fresh(ton_client, fans.alice, wallet)).status_code == 200
    for _ in range(2):  # unlinking nothing is fine too
        response = await ton_client.delete("/api/v1/ton/wallet", headers=fans.alice.headers)
        assert response.status_code == 204
        assert await _linked(ton_client, fans.alice) is None
    assert (await _link_fresh(ton_client, fans.bob, wallet)).status_code == 200


async def test_unknown_wallet_code_through_get_public_key(
    ton_client: Client, fans: Fans, toncenter: LocalToncenter
) -> None:
    wallet = make_wallet("custom")
    _refused(await _link_fresh(ton_client, fans.alice, wallet), 400, "ton_proof_unknown_wallet")
    toncenter.public_keys[wallet.raw_address] = wallet.public_key
    response = await _link_fresh(ton_client, fans.alice, wallet)
    assert response.status_code == 200, response.text
    assert response.json()["wallet_version"] is None
    assert [seen["body"]["method"] for seen in toncenter.seen] == ["get_public_key"] * 2


async def test_sign_in_first(ton_client: Client) -> None:
    for method, path in (
        ("POST", "/api/v1/ton/proof-payload"),
        ("POST", "/api/v1/ton/wallet"),
        ("GET", "/api/v1/ton/wallet"),
        ("DELETE", "/api/v1/ton/wallet"),
    ):
        response = await ton_client.request(method, path)
        assert response.status_code == 401, (method, path)


async def test_malformed_body_is_422(ton_client: Client, fans: Fans) -> None:
    body = proof_body(make_wallet(), await _payload(ton_client, fans.alice))
    del body["proof"]["domain"]
    response = await _link(ton_client, fans.alice, body)
    _refused(response, 422, "invalid")
