"""TON routes: ``/api/v1/ton/...`` for linking a wallet and paying invoices, and the TON
Connect manifest at the root (``/tonconnect-manifest.json``, with its icon), which wallets fetch
from their own origin — hence ``Access-Control-Allow-Origin: *`` on both.

Paying: ``GET /prices`` (what is for sale in TON), ``POST /invoices`` (``{kind, item_id}`` → the
invoice with the ``sendTransaction`` request for ``@tonconnect/ui`` and a ``ton://`` link) and
``GET /invoices/{id}`` (its status, to poll). The invoice is paid by the chain alone — the BoC a
wallet hands back after ``sendTransaction`` is never sent here and never trusted."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from fastapi.responses import FileResponse, JSONResponse

from core.models import TonInvoice, TonPrice, TonWallet
from core.settings import Settings
from core.ton.amounts import format_ton
from core.ton.toncenter import ToncenterPublicKeys
from miniapp_api.auth.deps import TenantDep, UserDep
from miniapp_api.deps import RedisDep, SessionDep, SettingsDep
from miniapp_api.ton.schemas import (
    ProofPayloadOut,
    TonConnectRequestOut,
    TonInvoiceIn,
    TonInvoiceOut,
    TonPriceOut,
    TonPricesOut,
    TonProofIn,
    TonWalletOut,
    TonWalletStateOut,
    UIWalletOut,
    WalletsOut,
)
from tenants.ton import invoices, service, tonconnect

router = APIRouter()
manifest_router = APIRouter(include_in_schema=False)

ICON_PATH = FilePath(__file__).resolve().parent.parent / "static" / "tonconnect-icon.png"
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


def price_out(price: TonPrice) -> TonPriceOut:
    return TonPriceOut(
        kind=price.item_kind,
        item_id=price.item_id,
        asset=price.asset,
        amount=str(price.amount),
        amount_ton=format_ton(price.amount),
    )


def invoice_out(invoice: TonInvoice, settings: Settings) -> TonInvoiceOut:
    request = invoices.payment_request(invoice, settings)
    return TonInvoiceOut(
        id=invoice.id,
        kind=invoice.kind,
        item_id=invoice.item_id,
        asset=invoice.asset,
        status=invoices.status_of(invoice).value,
        amount_due=str(invoice.amount_due),
        amount_due_ton=format_ton(invoice.amount_due),
        amount_received=str(invoice.amount_received),
        overpaid=str(invoice.overpaid),
        credits=invoice.credits,
        comment=invoice.comment,
        address=invoices.merchant_form(invoice, settings),
        expires_at=invoice.expires_at,
        paid_at=invoice.paid_at,
        paid_late=invoice.paid_late,
        ton_connect=(TonConnectRequestOut.model_validate(request.ton_connect) if request else None),
        link=request.link if request else None,
    )


@router.get("/prices")
async def list_prices(user: UserDep, session: SessionDep) -> TonPricesOut:
    """What this bot sells in TON."""
    prices = await invoices.list_prices(session, user.tenant_id)
    return TonPricesOut(items=[price_out(price) for price in prices])


@router.post("/invoices", status_code=status.HTTP_201_CREATED)
async def create_invoice(
    body: TonInvoiceIn,
    user: UserDep,
    _tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
) -> TonInvoiceOut:
    """An invoice for one item at its TON price: pay it with the request or link returned."""
    invoice = await invoices.create_invoice(
        session,
        settings,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        kind=body.kind,
        item_id=body.item_id,
    )
    return invoice_out(invoice, settings)


@router.get("/invoices/{invoice_id}")
async def get_invoice(
    invoice_id: Annotated[int, Path(gt=0, lt=2**63)],
    user: UserDep,
    session: SessionDep,
    settings: SettingsDep,
) -> TonInvoiceOut:
    """The fan's invoice as the chain has settled it so far (poll it after sending)."""
    invoice = await invoices.get_invoice(session, user.tenant_id, user.user_id, invoice_id)
    return invoice_out(invoice, settings)


@router.get("/connect-wallets")
async def connect_wallets(user: UserDep, redis: RedisDep, settings: SettingsDep) -> WalletsOut:
    """Wallets the Mini App's TON Connect UI adds to its list (``includeWallets``): those of
    ``TON_CONNECT_WALLETS_URL`` when set — in ``atelier dev`` the stand-in's test wallet —,
    so linking and paying work offline too. Entries without an SSE bridge are skipped."""
    items: list[UIWalletOut] = []
    for entry in await tonconnect.load_wallets_list(redis, settings):
        bridge = next(
            (b.get("url") for b in entry.get("bridge") or [] if b.get("type") == "sse"), None
        )
        values = (entry.get("app_name"), entry.get("name"), entry.get("universal_url"), bridge)
        if not all(isinstance(v, str) and v for v in values):
            continue
        items.append(
            UIWalletOut(
                appName=entry["app_name"],
                name=entry["name"],
                imageUrl=str(entry.get("image") or ""),
                aboutUrl=str(entry.get("about_url") or entry["universal_url"]),
                universalLink=entry["universal_url"],
                bridgeUrl=str(bridge),
                platforms=[str(p) for p in entry.get("platforms") or []],
            )
        )
    return WalletsOut(items=items)


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
