"""Linking a TON wallet to a fan: a single-use proof payload, then a verified ``ton_proof``.

The flow (Mini App; the bot's ``/wallet`` follows the same two calls)::

    issued = await issue_proof_payload(redis, settings, tenant_id=t, user_id=u)
    # the wallet signs a ton_proof over issued.payload (TON Connect ``tonProof``)
    wallet = await link_wallet(session, redis, settings, tenant_id=t, user_id=u, claim=claim,
                               keys=ToncenterPublicKeys(settings))
    await get_wallet(session, t, u)         # TonWallet | None — what payments and payouts use
    await unlink_wallet(session, t, u)      # True if there was one

Payloads live in Redis (``ton:proof-payload:<payload>`` → ``"<tenant>:<user>"``) for
``TON_PROOF_TTL`` seconds and are taken with ``GETDEL`` before anything else is checked: a
payload works once, for the fan who asked for it, and a refused proof burns it too (the wallet
must sign a fresh one). Shared state in Redis, so every API process agrees.

A fan has one wallet: linking another replaces it. A wallet has one fan per tenant: linking a
wallet another fan of the tenant holds is :class:`core.ton.errors.WalletTakenError` (409),
also when two fans race (the UNIQUE constraint decides). Only ``flush()`` here.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import ConflictError
from core.models import TonWallet
from core.settings import Settings
from core.ton.errors import UnknownPayloadError, WalletTakenError
from core.ton.proof import (
    ProofPolicy,
    PublicKeySource,
    TonProofClaim,
    VerifiedWallet,
    verify_ton_proof,
)
from tenants.ton import repository

logger = logging.getLogger(__name__)

PAYLOAD_BYTES = 32
_PAYLOAD = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class IssuedPayload:
    payload: str
    expires_at: int  # Unix time


def payload_key(payload: str) -> str:
    return f"ton:proof-payload:{payload}"


def _owner(tenant_id: int, user_id: int) -> str:
    return f"{tenant_id}:{user_id}"


def proof_policy(settings: Settings) -> ProofPolicy:
    return ProofPolicy(
        domain=settings.ton_proof_domain_value,
        network=settings.ton_network,
        max_age=settings.ton_proof_ttl,
    )


async def issue_proof_payload(
    redis: Redis, settings: Settings, *, tenant_id: int, user_id: int
) -> IssuedPayload:
    """A fresh random payload for this fan's wallet to sign, valid ``TON_PROOF_TTL`` seconds."""
    payload = secrets.token_hex(PAYLOAD_BYTES)
    ttl = settings.ton_proof_ttl
    await redis.set(payload_key(payload), _owner(tenant_id, user_id), ex=ttl, nx=True)
    return IssuedPayload(payload=payload, expires_at=int(time.time()) + ttl)


async def consume_proof_payload(
    redis: Redis, payload: str, *, tenant_id: int, user_id: int
) -> None:
    """Take the payload, once; refuse one never issued, used, expired or issued to another."""
    if not _PAYLOAD.fullmatch(payload):
        raise UnknownPayloadError("this proof payload was not issued by us")
    owner = await redis.getdel(payload_key(payload))
    if owner is None:
        raise UnknownPayloadError("this proof payload is unknown, used or expired; try again")
    if (owner.decode() if isinstance(owner, bytes) else owner) != _owner(tenant_id, user_id):
        raise UnknownPayloadError("this proof payload was issued to someone else")


async def get_wallet(session: AsyncSession, tenant_id: int, user_id: int) -> TonWallet | None:
    """The fan's linked wallet, if any (payments pay from it, payouts pay to it)."""
    return await repository.wallet_of_user(session, tenant_id, user_id)


async def link_wallet(
    session: AsyncSession,
    redis: Redis,
    settings: Settings,
    *,
    tenant_id: int,
    user_id: int,
    claim: TonProofClaim,
    keys: PublicKeySource | None,
) -> TonWallet:
    """Verify ``claim`` (payload first) and link its wallet to the fan."""
    await consume_proof_payload(redis, claim.payload, tenant_id=tenant_id, user_id=user_id)
    verified = await verify_ton_proof(claim, proof_policy(settings), now=time.time(), keys=keys)
    wallet = await save_link(session, tenant_id, user_id, verified)
    logger.info(
        "ton wallet linked",
        extra={"tenant_id": tenant_id, "user_id": user_id, "address": wallet.address_raw},
    )
    return wallet


async def save_link(
    session: AsyncSession, tenant_id: int, user_id: int, verified: VerifiedWallet
) -> TonWallet:
    """Write the link: replace the fan's wallet, refuse a wallet another fan holds."""
    raw = verified.address.raw
    holder = await repository.wallet_by_address(session, tenant_id, raw)
    if holder is not None and holder.user_id != user_id:
        raise WalletTakenError("another account of this bot has linked this wallet")
    wallet = await repository.wallet_of_user(session, tenant_id, user_id) or TonWallet(
        tenant_id=tenant_id, user_id=user_id
    )
    wallet.address_raw = raw
    wallet.address = verified.address.wallet_form(verified.network)
    wallet.public_key = verified.public_key.hex()
    wallet.network = verified.network.value
    wallet.wallet_version = verified.wallet_version.value if verified.wallet_version else None
    wallet.linked_at = utcnow()
    try:
        return await repository.save(session, wallet)
    except IntegrityError as error:
        if "address_raw" in str(error.orig):
            raise WalletTakenError("another account of this bot has linked this wallet") from None
        raise ConflictError("this wallet is being linked right now; try again") from None


async def unlink_wallet(session: AsyncSession, tenant_id: int, user_id: int) -> bool:
    """Forget the fan's wallet; ``False`` when there was none."""
    wallet = await repository.wallet_of_user(session, tenant_id, user_id)
    if wallet is None:
        return False
    await repository.remove(session, wallet)
    logger.info("ton wallet unlinked", extra={"tenant_id": tenant_id, "user_id": user_id})
    return True
