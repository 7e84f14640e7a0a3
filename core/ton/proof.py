"""``ton_proof``: proving, to us, that a fan controls a TON wallet — verified by our own rules.

pytonconnect's ``check_proof`` trusts the public key the wallet *claims* and checks neither the
domain nor the time; this module trusts nothing the wallet says until the chain's rules back it:

1. the network is ours (``-239`` mainnet, ``-3`` testnet, as ``TON_NETWORK``);
2. the signed domain is ours (``TON_PROOF_DOMAIN``) and ``lengthBytes`` is its UTF-8 length;
3. the timestamp is at most ``max_age`` seconds old and not ahead of our clock (beyond
   :data:`MAX_CLOCK_SKEW_S`, for phones whose clocks run a little fast);
4. the stateInit hashes to the claimed address, and the public key comes from it — a known
   wallet code (:mod:`core.ton.wallets`) read by its own data layout — or, for any other
   contract, from the deployed wallet's ``get_public_key`` (an injected
   :class:`PublicKeySource`, e.g. :class:`core.ton.toncenter.ToncenterClient`);
5. that key equals the key the wallet claims;
6. the Ed25519 signature holds over the message the TON Connect spec defines::

       message = "ton-proof-item-v2/" ++ workchain (int32 BE) ++ address hash (32 bytes)
                 ++ domain length (uint32 LE) ++ domain ++ timestamp (uint64 LE) ++ payload
       signed  = sha256(0xffff ++ "ton-connect" ++ sha256(message))

Each failure raises its own :class:`core.ton.errors.TonProofError` subclass. The payload (our
nonce) is checked by the caller *before* this runs — single use needs shared state, this module
has none: see :mod:`tenants.ton.service`.

Usage::

    wallet = await verify_ton_proof(
        claim, ProofPolicy(domain="app.example", network=TonNetwork.MAINNET, max_age=900),
        now=time.time(), keys=toncenter_client,
    )
    wallet.address, wallet.public_key, wallet.wallet_version
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from typing import Protocol

from nacl.exceptions import BadSignatureError as NaclBadSignature
from nacl.signing import SigningKey, VerifyKey
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit

from core.settings import TonNetwork
from core.ton import errors
from core.ton.address import TonAddress, parse_address
from core.ton.wallets import WalletVersion, begin_parse, identify_wallet, public_key_of

TON_PROOF_PREFIX = b"ton-proof-item-v2/"
TON_CONNECT_PREFIX = b"ton-connect"
MAX_CLOCK_SKEW_S = 60
MAX_STATE_INIT_BYTES = 16_384
MAX_PAYLOAD_BYTES = 512
MAX_DOMAIN_BYTES = 253


@dataclass(frozen=True, slots=True)
class TonProofClaim:
    """What ``@tonconnect/ui`` hands a backend: the account item and the ``ton_proof`` item.

    Strings as received; :func:`verify_ton_proof` decodes them and refuses what does not decode.
    """

    address: str
    network: str
    public_key: str
    timestamp: int
    domain: str
    domain_length: int
    signature: str
    payload: str
    state_init: str | None


@dataclass(frozen=True, slots=True)
class ProofPolicy:
    """What we accept: our domain, our network, the oldest proof (seconds)."""

    domain: str
    network: TonNetwork
    max_age: int


@dataclass(frozen=True, slots=True)
class VerifiedWallet:
    """A wallet whose control the fan proved."""

    address: TonAddress
    public_key: bytes
    network: TonNetwork
    wallet_version: WalletVersion | None  # None: the key came from get_public_key
    timestamp: int


class PublicKeySource(Protocol):
    """Reads a deployed wallet's ``get_public_key``; ``None`` when it has none."""

    async def get_public_key(self, address: TonAddress) -> bytes | None: ...


def proof_message(address: TonAddress, domain: str, timestamp: int, payload: str) -> bytes:
    """The message a wallet signs, byte for byte as the TON Connect spec defines it."""
    domain_bytes = domain.encode()
    return b"".join(
        (
            TON_PROOF_PREFIX,
            struct.pack(">i", address.workchain),
            address.hash,
            struct.pack("<I", len(domain_bytes)),
            domain_bytes,
            struct.pack("<Q", timestamp),
            payload.encode(),
        )
    )


def proof_digest(message: bytes) -> bytes:
    """What is actually signed: ``sha256(0xffff ++ "ton-connect" ++ sha256(message))``."""
    inner = hashlib.sha256(message).digest()
    return hashlib.sha256(b"\xff\xff" + TON_CONNECT_PREFIX + inner).digest()


def sign_ton_proof(
    signing_key: SigningKey, address: TonAddress, domain: str, timestamp: int, payload: str
) -> str:
    """Sign as a wallet does (base64 signature) — for the devtools wallet and tests."""
    digest = proof_digest(proof_message(address, domain, timestamp, payload))
    return base64.b64encode(signing_key.sign(digest).signature).decode()


def _b64(text: str, what: str, limit: int) -> bytes:
    if len(text) > limit * 4 // 3 + 4:
        raise errors.MalformedProofError(f"the {what} is too long")
    try:
        return base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise errors.MalformedProofError(f"the {what} is not base64") from None


def _public_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise errors.MalformedProofError("the public key is not hex") from None
    if len(key) != 32:
        raise errors.MalformedProofError("the public key is not 32 bytes")
    return key


def _address(text: str) -> TonAddress:
    try:
        return parse_address(text)
    except errors.InvalidAddressError:
        raise errors.MalformedProofError("the address is not a TON address") from None


def check_network(claim: TonProofClaim, policy: ProofPolicy) -> None:
    if claim.network.strip() != str(policy.network.global_id):
        raise errors.WrongNetworkError(f"connect a {policy.network.value} wallet")


def check_domain(claim: TonProofClaim, policy: ProofPolicy) -> None:
    encoded = claim.domain.encode()
    if len(encoded) > MAX_DOMAIN_BYTES or claim.domain_length != len(encoded):
        raise errors.MalformedProofError("the domain length does not match the domain")
    if claim.domain.lower() != policy.domain.lower():
        raise errors.WrongDomainError("the proof was signed for another site")


def check_timestamp(claim: TonProofClaim, policy: ProofPolicy, now: float) -> None:
    if claim.timestamp > now + MAX_CLOCK_SKEW_S:
        raise errors.ProofFromFutureError("the proof is dated in the future; check the clock")
    if claim.timestamp < now - policy.max_age:
        raise errors.ProofExpiredError("the proof is too old; connect the wallet again")


def _parse_state_init(raw: bytes) -> tuple[Cell, StateInit]:
    try:
        cell = Cell.one_from_boc(raw)
        return cell, StateInit.deserialize(begin_parse(cell))
    except Exception:  # pytoniq raises assorted errors on bad bags of cells
        raise errors.MalformedProofError("the stateInit is not a bag of cells") from None


def key_from_state_init(
    address: TonAddress, state_init: str
) -> tuple[bytes | None, WalletVersion | None]:
    """The key a known wallet's stateInit holds (``None`` for other contracts), after checking
    that the stateInit *is* the address's."""
    cell, parsed = _parse_state_init(_b64(state_init, "stateInit", MAX_STATE_INIT_BYTES))
    if bytes(cell.hash) != address.hash:
        raise errors.StateInitMismatchError("the stateInit is not the wallet's")
    if parsed.code is None or parsed.data is None:
        return None, None
    version = identify_wallet(parsed.code)
    if version is None:
        return None, None
    try:
        return public_key_of(version, parsed.data), version
    except ValueError:
        raise errors.MalformedProofError(f"the stateInit's {version} data is broken") from None


async def wallet_public_key(
    claim: TonProofClaim, address: TonAddress, keys: PublicKeySource | None
) -> tuple[bytes, WalletVersion | None]:
    """The wallet's real key: from its stateInit if we know the code, else from the chain."""
    key, version = (None, None)
    if claim.state_init:
        key, version = key_from_state_init(address, claim.state_init)
    if key is None and keys is not None:
        key = await keys.get_public_key(address)
    if key is None:
        raise errors.UnknownWalletError("this wallet's public key cannot be verified")
    return key, version


def check_signature(claim: TonProofClaim, address: TonAddress, public_key: bytes) -> None:
    signature = _b64(claim.signature, "signature", 64)
    if len(signature) != 64:
        raise errors.MalformedProofError("the signature is not 64 bytes")
    digest = proof_digest(proof_message(address, claim.domain, claim.timestamp, claim.payload))
    try:
        VerifyKey(public_key).verify(digest, signature)
    except NaclBadSignature:
        raise errors.BadSignatureError("the signature does not match") from None


async def verify_ton_proof(
    claim: TonProofClaim,
    policy: ProofPolicy,
    *,
    now: float,
    keys: PublicKeySource | None = None,
) -> VerifiedWallet:
    """Check everything but the payload's freshness (the caller's nonce) — see the module."""
    if len(claim.payload.encode()) > MAX_PAYLOAD_BYTES:
        raise errors.MalformedProofError("the payload is too long")
    address = _address(claim.address)
    claimed_key = _public_key(claim.public_key)
    check_network(claim, policy)
    check_domain(claim, policy)
    check_timestamp(claim, policy, now)
    public_key, version = await wallet_public_key(claim, address, keys)
    if public_key != claimed_key:
        raise errors.PublicKeyMismatchError("the public key is not the wallet's")
    check_signature(claim, address, public_key)
    return VerifiedWallet(address, public_key, policy.network, version, claim.timestamp)
