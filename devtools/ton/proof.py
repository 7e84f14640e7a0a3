"""``ton_proof`` exactly as the TON Connect spec defines it, signed for real.

    message = "ton-proof-item-v2/" ++ workchain (int32 BE) ++ address hash (32 bytes)
              ++ domain length (uint32 LE) ++ domain ++ timestamp (uint64 LE) ++ payload
    signature = Ed25519(sha256(0xffff ++ "ton-connect" ++ sha256(message)))

``connect_item`` is what a wallet puts in its connect event; ``backend_payload`` is the shape
``@tonconnect/ui`` hands to a dApp backend (address, network, public_key, proof with
state_init) — build one with any domain, payload or timestamp to test a verifier's refusals.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from pytoniq_core.boc.address import Address

from devtools.ton.wallets import TestWallet, network_global_id

PROOF_PREFIX = b"ton-proof-item-v2/"
CONNECT_PREFIX = b"\xff\xffton-connect"


def proof_message(address: Address, domain: str, timestamp: int, payload: str) -> bytes:
    domain_bytes = domain.encode()
    return bytes(
        PROOF_PREFIX
        + address.wc.to_bytes(4, "big", signed=True)
        + address.hash_part
        + len(domain_bytes).to_bytes(4, "little")
        + domain_bytes
        + timestamp.to_bytes(8, "little")
        + payload.encode()
    )


def signed_digest(message: bytes) -> bytes:
    """What the wallet key signs: sha256(0xffff ++ "ton-connect" ++ sha256(message))."""
    return hashlib.sha256(CONNECT_PREFIX + hashlib.sha256(message).digest()).digest()


def sign_proof(
    wallet: TestWallet, domain: str, payload: str, timestamp: int | None = None
) -> dict[str, Any]:
    """The ``proof`` object: timestamp, domain {lengthBytes, value}, base64 signature, payload."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    message = proof_message(wallet.address, domain, timestamp, payload)
    signature = wallet.sign(signed_digest(message))
    return {
        "timestamp": timestamp,
        "domain": {"lengthBytes": len(domain.encode()), "value": domain},
        "signature": base64.b64encode(signature).decode(),
        "payload": payload,
    }


def connect_item(
    wallet: TestWallet, domain: str, payload: str, timestamp: int | None = None
) -> dict[str, Any]:
    return {"name": "ton_proof", "proof": sign_proof(wallet, domain, payload, timestamp)}


def address_item(wallet: TestWallet, network: str) -> dict[str, Any]:
    """``ton_addr``: raw address, network id as a string, public key hex, stateInit base64."""
    return {
        "name": "ton_addr",
        "address": wallet.raw_address,
        "network": str(network_global_id(network)),
        "publicKey": wallet.public_key.hex(),
        "walletStateInit": wallet.state_init_b64,
    }


def backend_payload(
    wallet: TestWallet,
    domain: str,
    payload: str,
    *,
    network: str = "mainnet",
    timestamp: int | None = None,
) -> dict[str, Any]:
    """What a Mini App posts to its backend after connecting with ``@tonconnect/ui``."""
    proof = sign_proof(wallet, domain, payload, timestamp)
    proof["state_init"] = wallet.state_init_b64
    return {
        "address": wallet.raw_address,
        "network": str(network_global_id(network)),
        "public_key": wallet.public_key.hex(),
        "proof": proof,
    }
