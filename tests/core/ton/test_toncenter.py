"""The toncenter client against a real local HTTP server: get-methods in both JSON shapes, the
API key header, 429 back-off, and ``ton_proof`` through ``get_public_key`` for wallets whose
code we do not know."""

from __future__ import annotations

import time

import pytest

from core.settings import TonNetwork
from core.ton import errors
from core.ton.address import parse_address
from core.ton.proof import ProofPolicy, TonProofClaim, verify_ton_proof
from core.ton.toncenter import TonApiError, TonApiRateLimitedError, ToncenterClient
from tests.core.ton.helpers import DOMAIN, claim_of, make_wallet, proof_body
from tests.core.ton.toncenter_server import LocalToncenter

POLICY = ProofPolicy(domain=DOMAIN, network=TonNetwork.MAINNET, max_age=900)
FAST = {"backoff_base": 0.01, "backoff_cap": 0.05}

# A ton_proof a real wallet signed on testnet (published as a test vector of an open-source
# verifier). Its code is a library cell naming wallet v5 *beta* — not a code we read — so its
# key can only come from get_public_key.
REAL_V5_BETA = TonProofClaim(
    address="0:7afd7563d8fd084d35060278320769743905983b8ea43c5b16fb6e3dc0a190dd",
    network="-3",
    public_key="c5134fcb39879c2cf81ffdc347353d031cf184538130fdd42688152088bf69ba",
    timestamp=1721812530,
    domain="winogarcia.github.io",
    domain_length=20,
    signature="8ab+IBU83nga6aNznUNEHr3OgN1L7I2raVomWNrhEElTFI1a3VvAz4mzvQbaYiaCY+WftHZrJnSiEgnbRYojDA==",
    payload=(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1bmlxdWVfbmFtZSI6IjQxNDA1NzUxLTNlZjEtNDZhYi04ZDJi"
        "LTRkMjE4NWVhZjI2ZSIsIm5iZiI6MTcyMTgxMjQ4OCwiZXhwIjoxNzIxODEzMzg4LCJpYXQiOjE3MjE4MTI0ODgs"
        "ImlzcyI6Iklzc3VlckZvclBheWxvYWQiLCJhdWQiOiJBdWRpZW5jZUZvclBheWxvYWQifQ.rzJ1tpq-jDp19pDw"
        "WO8ZNp8T9ZkME9CZXIppWc5FYGo"
    ),
    state_init=(
        "te6cckEBAwEAWQACATQCAQBdAAAAAH////6AAAAAAABiiaflnMPOFnwP/uGjmp6BjnjCKcCYfuoTRAqQRF+03SAI"
        "QgLkzzsvTG1qYeoPK1RH0mZ4WyavNjfbLe7mvNGqgm80EpjwGJs="
    ),
)


async def test_get_public_key_and_the_api_key_header(toncenter: LocalToncenter) -> None:
    wallet = make_wallet()
    toncenter.public_keys[wallet.raw_address] = wallet.public_key
    address = parse_address(wallet.raw_address)
    async with ToncenterClient(toncenter.url, "k3y-123", **FAST) as client:
        assert await client.get_public_key(address) == wallet.public_key
        assert (await client.run_get_method(address, "seqno")).int_at(0) == 7
        assert await client.get_public_key(parse_address(make_wallet().raw_address)) is None
    first = toncenter.seen[0]
    assert first["headers"]["X-API-Key"] == "k3y-123"
    assert first["body"] == {"address": wallet.raw_address, "method": "get_public_key", "stack": []}


async def test_reads_the_v2_shape_too(toncenter: LocalToncenter) -> None:
    wallet = make_wallet()
    toncenter.public_keys[wallet.raw_address] = wallet.public_key
    toncenter.v2_shape = True
    async with ToncenterClient(toncenter.url, **FAST) as client:
        assert await client.get_public_key(parse_address(wallet.raw_address)) == wallet.public_key
    assert "X-API-Key" not in toncenter.seen[0]["headers"]  # no key configured, none sent


async def test_backs_off_on_429_then_succeeds(toncenter: LocalToncenter) -> None:
    wallet = make_wallet()
    toncenter.public_keys[wallet.raw_address] = wallet.public_key
    toncenter.rate_limited = 2
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    async with ToncenterClient(toncenter.url, sleep=sleep, backoff_base=0.5) as client:
        assert await client.get_public_key(parse_address(wallet.raw_address)) == wallet.public_key
    assert len(toncenter.seen) == 3
    assert pauses == [0.5, 1.0]  # exponential without Retry-After


async def test_honours_retry_after_and_gives_up(toncenter: LocalToncenter) -> None:
    toncenter.rate_limited = 100
    toncenter.retry_after = "0.02"
    started = time.monotonic()
    async with ToncenterClient(toncenter.url, max_retries=3, backoff_base=5) as client:
        with pytest.raises(TonApiRateLimitedError) as refused:
            await client.get_public_key(parse_address(make_wallet().raw_address))
    assert len(toncenter.seen) == 4  # the first try and three retries
    assert time.monotonic() - started < 4  # waited Retry-After, not the 5 s back-off
    assert refused.value.status_code == 502 and refused.value.code == "ton_api_rate_limited"


async def test_unreachable_api_is_an_upstream_error() -> None:
    async with ToncenterClient("http://127.0.0.1:9", max_retries=1, **FAST) as client:
        with pytest.raises(TonApiError) as refused:
            await client.get_public_key(parse_address(make_wallet().raw_address))
    assert refused.value.status_code == 502


async def test_proof_of_an_unknown_wallet_through_get_public_key(
    toncenter: LocalToncenter,
) -> None:
    wallet = make_wallet("custom")
    toncenter.public_keys[wallet.raw_address] = wallet.public_key
    async with ToncenterClient(toncenter.url, **FAST) as client:
        verified = await verify_ton_proof(
            claim_of(proof_body(wallet, "ab" * 32)), POLICY, now=time.time(), keys=client
        )
        assert verified.public_key == wallet.public_key
        assert verified.wallet_version is None
        # The chain holds another key than the one the wallet claims: refused.
        toncenter.public_keys[wallet.raw_address] = make_wallet().public_key
        with pytest.raises(errors.PublicKeyMismatchError):
            await verify_ton_proof(
                claim_of(proof_body(wallet, "ab" * 32)), POLICY, now=time.time(), keys=client
            )
        # Not deployed (no get_public_key answer): refused as an unknown wallet.
        del toncenter.public_keys[wallet.raw_address]
        with pytest.raises(errors.UnknownWalletError):
            await verify_ton_proof(
                claim_of(proof_body(wallet, "ab" * 32)), POLICY, now=time.time(), keys=client
            )


async def test_a_real_v5_beta_proof_through_get_public_key(toncenter: LocalToncenter) -> None:
    toncenter.public_keys[REAL_V5_BETA.address] = bytes.fromhex(REAL_V5_BETA.public_key)
    policy = ProofPolicy("winogarcia.github.io", TonNetwork.TESTNET, max_age=900)
    async with ToncenterClient(toncenter.url, **FAST) as client:
        verified = await verify_ton_proof(
            REAL_V5_BETA, policy, now=REAL_V5_BETA.timestamp + 1, keys=client
        )
    assert verified.wallet_version is None
    assert verified.address.wallet_form(TonNetwork.TESTNET).startswith("0Q")
