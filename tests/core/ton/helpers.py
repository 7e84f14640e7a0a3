"""Real TON wallets for tests, built with pytoniq-core, and proofs signed the way wallets sign.

Deliberately independent of the code under test: data cells come from pytoniq-core's wallet
TL-B classes with the wallet apps' default ``wallet_id`` numbers from the TON docs, and the
signed message is assembled here from the TON Connect spec with ``struct`` — so a mistake in
:mod:`core.ton` cannot cancel itself out. Only the code cells come from
:func:`core.ton.wallets.wallet_code`, which ``test_wallets`` pins to the published hashes.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from dataclasses import dataclass
from typing import Any

from nacl.signing import SigningKey
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from pytoniq_core.tlb.custom.wallet import WalletV3Data, WalletV4Data, WalletV5R1Data

from core.ton.proof import TonProofClaim
from core.ton.wallets import WalletVersion, wallet_code

# Default wallet ids as the TON docs list them ("Default wallet_id values").
V3_V4_WALLET_ID = 0x29A9A317
V5_WALLET_ID = {"mainnet": 0x7FFFFF11, "testnet": 0x7FFFFFFD}
CHAIN = {"mainnet": "-239", "testnet": "-3"}
DOMAIN = "atelier.example"

# An arbitrary contract that is no wallet we know: stateInit checks pass, the key must come
# from get_public_key.
CUSTOM_CODE = Builder().store_uint(0xC0FFEE, 24).end_cell()


@dataclass(frozen=True)
class SampleWallet:
    version: str  # "v3r2" | "v4r2" | "v5r1" | "custom"
    network: str
    signing_key: SigningKey
    state_init: Cell
    workchain: int = 0

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def address_hash(self) -> bytes:
        return bytes(self.state_init.hash)

    @property
    def raw_address(self) -> str:
        return f"{self.workchain}:{self.address_hash.hex()}"

    @property
    def state_init_b64(self) -> str:
        return base64.b64encode(self.state_init.to_boc()).decode()


def _data(version: str, public_key: bytes, network: str) -> Cell:
    if version == "v3r2":
        return WalletV3Data(seqno=0, wallet_id=V3_V4_WALLET_ID, public_key=public_key).serialize()
    if version == "v4r2":
        return WalletV4Data(seqno=0, wallet_id=V3_V4_WALLET_ID, public_key=public_key).serialize()
    wallet_id = V5_WALLET_ID[network]
    return WalletV5R1Data(seqno=0, wallet_id=wallet_id, public_key=public_key).serialize()


def make_wallet(
    version: str = "v4r2", network: str = "mainnet", *, seed: bytes | None = None
) -> SampleWallet:
    key = SigningKey(seed) if seed else SigningKey.generate()
    public_key = bytes(key.verify_key)
    if version == "custom":
        code, data = CUSTOM_CODE, Builder().store_bytes(public_key).end_cell()
    else:
        code, data = wallet_code(WalletVersion(version)), _data(version, public_key, network)
    state_init = StateInit(code=code, data=data).serialize()
    return SampleWallet(version, network, key, state_init)


def spec_message(workchain: int, address_hash: bytes, domain: str, ts: int, payload: str) -> bytes:
    """The TON Connect ``ton_proof`` message, assembled straight from the spec."""
    domain_bytes = domain.encode("utf-8")
    return (
        b"ton-proof-item-v2/"
        + struct.pack(">i", workchain)
        + address_hash
        + struct.pack("<I", len(domain_bytes))
        + domain_bytes
        + struct.pack("<Q", ts)
        + payload.encode("utf-8")
    )


def wallet_signature(
    key: SigningKey, workchain: int, address_hash: bytes, domain: str, ts: int, payload: str
) -> str:
    """What a wallet signs: sha256(0xffff ++ "ton-connect" ++ sha256(message))."""
    inner = hashlib.sha256(spec_message(workchain, address_hash, domain, ts, payload)).digest()
    digest = hashlib.sha256(b"\xff\xff" + b"ton-connect" + inner).digest()
    return base64.b64encode(key.sign(digest).signature).decode()


def proof_body(
    wallet: SampleWallet,
    payload: str,
    *,
    domain: str = DOMAIN,
    timestamp: int | None = None,
    signing_key: SigningKey | None = None,
    public_key: bytes | None = None,
    state_init: str | None = None,
    network: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """The JSON ``@tonconnect/ui`` hands a backend; keyword overrides forge one field each."""
    ts = int(time.time()) if timestamp is None else timestamp
    signature = wallet_signature(
        signing_key or wallet.signing_key,
        wallet.workchain,
        wallet.address_hash,
        domain,
        ts,
        payload,
    )
    return {
        "address": address or wallet.raw_address,
        "network": network or CHAIN[wallet.network],
        "public_key": (public_key or wallet.public_key).hex(),
        "proof": {
            "timestamp": ts,
            "domain": {"lengthBytes": len(domain.encode()), "value": domain},
            "signature": signature,
            "payload": payload,
            "state_init": state_init if state_init is not None else wallet.state_init_b64,
        },
    }


def claim_of(body: dict[str, Any]) -> TonProofClaim:
    proof = body["proof"]
    return TonProofClaim(
        address=body["address"],
        network=str(body["network"]),
        public_key=body["public_key"],
        timestamp=int(proof["timestamp"]),
        domain=proof["domain"]["value"],
        domain_length=proof["domain"]["lengthBytes"],
        signature=proof["signature"],
        payload=proof["payload"],
        state_init=proof["state_init"] or None,
    )
