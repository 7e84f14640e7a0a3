"""TON routes: ``/api/v1/ton/...`` for linking a wallet, and the TON Connect manifest at the
root (``/tonconnect-manifest.json``, with its icon), which wallets fetch from their own origin —
hence ``Access-Control-Allow-Origin: *`` on both."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, JSONResponse

from core.models import TonWallet
from core.ton.toncenter import ToncenterPublicKeys
from miniapp_api.auth.deps import TenantDep, UserDep
from miniapp_api.deps import RedisDep, SessionDep, SettingsDep
from miniapp_api.ton.schemas import (
    ProofPayloadOut,
    TonProofIn,
    TonWalletOut,
    TonWalletStateOut,
)
from tenants.ton import service

router = APIRouter()
manifest_router = APIRouter(include_in_schema=False)

ICON_PATH = Path(__file__).resolve().parent.parent / "static" / "tonconnect-icon.png"
ICON_ROUTE = "/tonconnect-icon.png"
_PUBLIC_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


def _wallet_out(wallet: TonWallet) -> TonWalletOut:
    return TonWalletOut(
        address=wallet.address,
        address_raw=wallet.address_raw,
        network=wallet.network,
        public_key=wallet.public_key,
        wallet_version=wallet.wallet_version,
        linked_at=wallet.linked_at,
    )


@router.post("/proof-payload")
async def proof_payload(
    user: UserDep, _tenant: TenantDep, redis: RedisDep, settings: SettingsDep
) -> ProofPayloadOut:
    """A single-use payload for the wallet to sign (TON Connect ``tonProof``)."""
    issued = await service.issue_proof_payload(
        redis, settings, tenant_id=user.tenant_id, user_id=user.user_id
    )
    return ProofPayloadOut(payload=issued.payload, expires_at=issued.expires_at)


@router.post("/wallet")
async def link_wallet(
    body: TonProofIn,
    user: UserDep,
    _tenant: TenantDep,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> TonWalletOut:
    """Verify the wallet's ``ton_proof`` and link the wallet (replacing any other)."""
    wallet = await service.link_wallet(
        session,
        redis,
        settings,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        claim=body.claim(),
        keys=ToncenterPublicKeys(settings),
    )
    return _wallet_out(wallet)


@router.get("/wallet")
async def get_wallet(user: UserDep, session: SessionDep) -> TonWalletStateOut:
    wallet = await service.get_wallet(session, user.tenant_id, user.user_id)
    return TonWalletStateOut(wallet=_wallet_out(wallet) if wallet else None)


@router.delete("/wallet", status_code=204)
async def unlink_wallet(user: UserDep, session: SessionDep) -> Response:
    """Forget the linked wallet (nothing linked: also 204)."""
    await service.unlink_wallet(session, user.tenant_id, user.user_id)
    return Response(status_code=204)


@manifest_router.get("/tonconnect-manifest.json")
async def tonconnect_manifest(settings: SettingsDep) -> Response:
    base = settings.public_base_url.rstrip("/")
    manifest = {"url": base, "name": settings.ton_connect_app_name, "iconUrl": base + ICON_ROUTE}
    if settings.ton_connect_terms_url:
        manifest["termsOfUseUrl"] = settings.ton_connect_terms_url
    if settings.ton_connect_privacy_url:
        manifest["privacyPolicyUrl"] = settings.ton_connect_privacy_url
    return JSONResponse(manifest, headers=_PUBLIC_HEADERS)


@manifest_router.get(ICON_ROUTE)
async def tonconnect_icon() -> FileResponse:
    return FileResponse(ICON_PATH, media_type="image/png", headers=_PUBLIC_HEADERS)
