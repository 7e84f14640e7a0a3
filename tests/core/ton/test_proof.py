"""``verify_ton_proof`` accepts what real wallets sign and refuses every forgery for its own
reason (a distinct error code per refusal)."""

from __future__ import annotations

import base64
import time
from dataclasses import replace

import pytest
from nacl.signing import SigningKey

from core.settings import TonNetwork
from core.ton import errors
from core.ton.address import TonAddress
from core.ton.proof import (
    MAX_CLOCK_SKEW_S,
    ProofPolicy,
    TonProofClaim,
    proof_message,
    sign_ton_proof,
    verify_ton_proof,
)
from core.ton.wallets import WalletVersion
from tests.core.ton.helpers import DOMAIN, claim_of, make_wallet, proof_body, spec_message

POLICY = ProofPolicy(domain=DOMAIN, network=TonNetwork.MAINNET, max_age=900)
PAYLOAD = "5d1c" * 16

# A ton_proof a real v4R2 wallet signed on mainnet, published as a test vector by an
# open-source verifier: it pins our message layout to what wallets actually sign.
REAL_V4R2 = TonProofClaim(
    address="0:0522952c6d0846ad7f93dfb7987e5f77f02ee53290a26f9be85a50c689085932",
    network="-239",
    public_key="e635249f6b3fbaf9742ae1d09d8f6f01b6082ff9256d719006329405019f3198",
    timestamp=1721827476,
    domain="winogarcia.github.io",
    domain_length=20,
    signature="z05SXc3qseQ/c/Fwmp+D4+qF2QWRAbP7E8mcYwbxBTqsEcG/DQdMdUUJhYx0NQTpid38oxBDYnJ9vB0cZkd/Bw==",
    payload=(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1bmlxdWVfbmFtZSI6IjExMjM3N2UxLWUwYjktNGIyOC05Nj"
        "JkLTRiZDAxMTFmZmY3NyIsIm5iZiI6MTcyMTgyNzA4MiwiZXhwIjoxNzIxODI3OTgyLCJpYXQiOjE3MjE4Mjcw"
        "ODIsImlzcyI6Iklzc3VlckZvclBheWxvYWQiLCJhdWQiOiJBdWRpZW5jZUZvclBheWxvYWQifQ.BZ6LvTKvsSP"
        "Z4H6nbwcQP3gjVgvkbYm2vPIQjJ4Gyak"
    ),
    state_init=(
        "te6cckECFgEAAwQAAgE0AgEAUQAAAAApqaMX5jUkn2s/uvl0KuHQnY9vAbYIL/klbXGQBjKUBQGfMZhAART/APSk"
        "E/S88sgLAwIBIAkEBPjygwjXGCDTH9Mf0x8C+CO78mTtRNDTH9Mf0//0BNFRQ7ryoVFRuvKiBfkBVBBk+RDyo/gA"
        "JKTIyx9SQMsfUjDL/1IQ9ADJ7VT4DwHTByHAAJ9sUZMg10qW0wfUAvsA6DDgIcAB4wAhwALjAAHAA5Ew4w0DpMjL"
        "HxLLH8v/CAcGBQAK9ADJ7VQAbIEBCNcY+gDTPzBSJIEBCPRZ8qeCEGRzdHJwdIAYyMsFywJQBc8WUAP6AhPLassf"
        "Ess/yXP7AABwgQEI1xj6ANM/yFQgR4EBCPRR8qeCEG5vdGVwdIAYyMsFywJQBs8WUAT6AhTLahLLH8s/yXP7AAIA"
        "btIH+gDU1CL5AAXIygcVy//J0Hd0gBjIywXLAiLPFlAF+gIUy2sSzMzJc/sAyEAUgQEI9FHypwICAUgTCgIBIAwL"
        "AFm9JCtvaiaECAoGuQ+gIYRw1AgIR6STfSmRDOaQPp/5g3gSgBt4EBSJhxWfMYQCASAODQARuMl+1E0NcLH4AgFY"
        "Eg8CASAREAAZrx32omhAEGuQ64WPwAAZrc52omhAIGuQ64X/wAA9sp37UTQgQFA1yH0BDACyMoHy//J0AGBAQj0"
        "Cm+hMYALm0AHQ0wMhcbCSXwTgItdJwSCSXwTgAtMfIYIQcGx1Z70ighBkc3RyvbCSXwXgA/pAMCD6RAHIygfL/8nQ"
        "7UTQgQFA1yH0BDBcgQEI9ApvoTGzkl8H4AXTP8glghBwbHVnupI4MOMNA4IQZHN0crqSXwbjDRUUAIpQBIEBCPRZ"
        "MO1E0IEBQNcgyAHPFvQAye1UAXKwjiOCEGRzdHKDHrFwgBhQBcsFUAPPFiP6AhPLassfyz/JgED7AJJfA+IAeAH6"
        "APQEMPgnbyIwUAqhIb7y4FCCEHBsdWeDHrFwgBhQBMsFJs8WWPoCGfQAy2kXyx9SYMs/IMmAQPsABru64+A="
    ),
)


async def _verify(claim: TonProofClaim, policy: ProofPolicy = POLICY, **kwargs: object) -> object:
    now = kwargs.pop("now", time.time())
    return await verify_ton_proof(claim, policy, now=now, **kwargs)  # type: ignore[arg-type]


async def test_a_real_wallets_proof_verifies() -> None:
    policy = ProofPolicy("winogarcia.github.io", TonNetwork.MAINNET, max_age=900)
    wallet = await verify_ton_proof(REAL_V4R2, policy, now=REAL_V4R2.timestamp + 5)
    assert wallet.wallet_version is WalletVersion.V4R2
    assert wallet.public_key.hex() == REAL_V4R2.public_key
    assert wallet.address.raw == REAL_V4R2.address
    # The same proof, an hour later, is too old; with one byte of the payload changed, forged.
    with pytest.raises(errors.ProofExpiredError):
        await verify_ton_proof(REAL_V4R2, policy, now=REAL_V4R2.timestamp + 3600)
    forged = replace(REAL_V4R2, payload=REAL_V4R2.payload[:-1] + "A")
    with pytest.raises(errors.BadSignatureError):
        await verify_ton_proof(forged, policy, now=REAL_V4R2.timestamp + 5)


def test_message_matches_the_spec_byte_for_byte() -> None:
    key = SigningKey(bytes(range(32)))
    for workchain, domain in ((0, DOMAIN), (-1, "ünïcode.example:8443")):
        address = TonAddress(workchain, bytes(range(32, 64)))
        ts = 1_800_000_000
        assert proof_message(address, domain, ts, PAYLOAD) == spec_message(
            workchain, address.hash, domain, ts, PAYLOAD
        )
    signature = sign_ton_proof(key, TonAddress(0, bytes(32)), DOMAIN, 1, "p")
    assert len(base64.b64decode(signature)) == 64


@pytest.mark.parametrize("version", ["v3r2", "v4r2", "v5r1"])
@pytest.mark.parametrize("network", ["mainnet", "testnet"])
async def test_accepts_each_known_wallet(version: str, network: str) -> None:
    wallet = make_wallet(version, network)
    policy = replace(POLICY, network=TonNetwork(network))
    verified = await _verify(claim_of(proof_body(wallet, PAYLOAD)), policy)
    assert verified.wallet_version is WalletVersion(version)  # type: ignore[attr-defined]
    assert verified.public_key == wallet.public_key  # type: ignore[attr-defined]
    assert verified.address.raw == wallet.raw_address  # type: ignore[attr-defined]


async def test_wrong_domain() -> None:
    body = proof_body(make_wallet(), PAYLOAD, domain="evil.example")
    with pytest.raises(errors.WrongDomainError) as refused:
        await _verify(claim_of(body))
    assert refused.value.code == "ton_proof_wrong_domain"


async def test_domain_length_must_match_the_domain() -> None:
    body = proof_body(make_wallet(), PAYLOAD)
    body["proof"]["domain"]["lengthBytes"] += 1
    with pytest.raises(errors.MalformedProofError):
        await _verify(claim_of(body))


async def test_stale_timestamp() -> None:
    now = time.time()
    body = proof_body(make_wallet(), PAYLOAD, timestamp=int(now) - POLICY.max_age - 1)
    with pytest.raises(errors.ProofExpiredError) as refused:
        await _verify(claim_of(body), now=now)
    assert refused.value.code == "ton_proof_expired"


async def test_future_timestamp() -> None:
    now = time.time()
    wallet = make_wallet()
    body = proof_body(wallet, PAYLOAD, timestamp=int(now) + MAX_CLOCK_SKEW_S + 5)
    with pytest.raises(errors.ProofFromFutureError) as refused:
        await _verify(claim_of(body), now=now)
    assert refused.value.code == "ton_proof_future_timestamp"
    # A phone clock a few seconds fast is forgiven.
    await _verify(claim_of(proof_body(wallet, PAYLOAD, timestamp=int(now) + 5)), now=now)


async def test_public_key_mismatch() -> None:
    """The attacker signs with their own key and claims it, for the victim's wallet."""
    victim, attacker = make_wallet(), SigningKey.generate()
    body = proof_body(victim, PAYLOAD, signing_key=attacker, public_key=bytes(attacker.verify_key))
    with pytest.raises(errors.PublicKeyMismatchError) as refused:
        await _verify(claim_of(body))
    assert refused.value.code == "ton_proof_public_key_mismatch"


async def test_state_init_not_matching_the_address() -> None:
    """The attacker's own wallet's stateInit, offered for the victim's address."""
    victim, attacker = make_wallet("v4r2"), make_wallet("v4r2")
    body = proof_body(
        victim,
        PAYLOAD,
        signing_key=attacker.signing_key,
        public_key=attacker.public_key,
        state_init=attacker.state_init_b64,
    )
    with pytest.raises(errors.StateInitMismatchError) as refused:
        await _verify(claim_of(body))
    assert refused.value.code == "ton_proof_state_init_mismatch"


async def test_wrong_network() -> None:
    body = proof_body(make_wallet("v4r2", "testnet"), PAYLOAD)
    with pytest.raises(errors.WrongNetworkError) as refused:
        await _verify(claim_of(body))
    assert refused.value.code == "ton_proof_wrong_network"


async def test_bad_signature() -> None:
    wallet = make_wallet()
    signed_by_another = proof_body(wallet, PAYLOAD, signing_key=SigningKey.generate())
    tampered = proof_body(wallet, PAYLOAD)
    tampered["proof"]["payload"] = "6e1d" * 16  # signed over another payload
    for body in (signed_by_another, tampered):
        with pytest.raises(errors.BadSignatureError) as refused:
            await _verify(claim_of(body))
        assert refused.value.code == "ton_proof_bad_signature"


async def test_unknown_wallet_code_without_get_public_key() -> None:
    wallet = make_wallet("custom")
    for state_init in (wallet.state_init_b64, ""):
        body = proof_body(wallet, PAYLOAD, state_init=state_init)
        with pytest.raises(errors.UnknownWalletError) as refused:
            await _verify(claim_of(body), keys=None)
        assert refused.value.code == "ton_proof_unknown_wallet"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("signature", "not base64!"),
        ("signature", base64.b64encode(b"short").decode()),
        ("state_init", base64.b64encode(b"not a bag of cells").decode()),
        ("public_key", "zz" * 32),
        ("public_key", "ab" * 31),
        ("address", "0:1234"),
    ],
)
async def test_malformed_fields(field: str, value: str) -> None:
    body = proof_body(make_wallet(), PAYLOAD)
    if field in ("signature", "state_init"):
        body["proof"][field] = value
    else:
        body[field] = value
    with pytest.raises(errors.MalformedProofError) as refused:
        await _verify(claim_of(body))
    assert refused.value.code == "ton_proof_malformed"
    assert refused.value.status_code == 400
