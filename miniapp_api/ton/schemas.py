"""Shapes of the TON API. The proof comes in the shape ``@tonconnect/ui`` hands a backend:
``wallet.account`` (``address``, ``chain`` as ``network``, ``publicKey`` as ``public_key``)
plus ``wallet.connectItems.tonProof.proof`` with the account's ``walletStateInit`` as
``proof.state_init``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from core.ton.proof import MAX_DOMAIN_BYTES, MAX_PAYLOAD_BYTES, TonProofClaim


class ProofPayloadOut(BaseModel):
    payload: str = Field(description="Pass to TON Connect as `tonProof`; single use.")
    expires_at: int = Field(description="Unix time after which the payload is refused.")


class TonProofDomainIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    length_bytes: int = Field(alias="lengthBytes", ge=0, le=MAX_DOMAIN_BYTES)
    value: str = Field(max_length=MAX_DOMAIN_BYTES)


class TonProofItemIn(BaseModel):
    timestamp: int = Field(ge=0, le=2**63 - 1, description="Unix seconds (number or string).")
    domain: TonProofDomainIn
    signature: str = Field(max_length=200, description="Base64 Ed25519 signature.")
    payload: str = Field(max_length=MAX_PAYLOAD_BYTES)
    state_init: str | None = Field(
        default=None, max_length=24_000, description="Base64 BoC of the wallet's stateInit."
    )


class TonProofIn(BaseModel):
    address: str = Field(max_length=100, description="Raw `0:<hex>` (or user-friendly).")
    network: int | str = Field(description="`-239` mainnet, `-3` testnet.")
    public_key: str = Field(max_length=130, description="Hex, as the wallet reports it.")
    proof: TonProofItemIn

    def claim(self) -> TonProofClaim:
        return TonProofClaim(
            address=self.address,
            network=str(self.network),
            public_key=self.public_key,
            timestamp=self.proof.timestamp,
            domain=self.proof.domain.value,
            domain_length=self.proof.domain.length_bytes,
            signature=self.proof.signature,
            payload=self.proof.payload,
            state_init=self.proof.state_init,
        )


class TonWalletOut(BaseModel):
    address: str = Field(description="User-friendly, non-bounceable: how the wallet is shown.")
    address_raw: str
    network: str
    public_key: str
    wallet_version: str | None = Field(description="v3r2 | v4r2 | v5r1, or null if other.")
    linked_at: datetime


class TonWalletStateOut(BaseModel):
    wallet: TonWalletOut | None


# -- payments ------------------------------------------------------------------------------------


class TonPriceOut(BaseModel):
    kind: str = Field(description="credits | ppv | vip")
    item_id: int
    asset: str = Field(description="`TON`, or a jetton master address.")
    amount: str = Field(description="Minimal units of the asset (nanotons for TON), a string.")
    amount_ton: str = Field(description="The same in TON, e.g. `1.5`.")


class TonPricesOut(BaseModel):
    items: list[TonPriceOut]


class TonInvoiceIn(BaseModel):
    kind: str = Field(max_length=16, description="credits | ppv | vip")
    item_id: int = Field(gt=0, lt=2**63)


class TonTransferMessageOut(BaseModel):
    address: str = Field(description="The merchant, user-friendly and non-bounceable.")
    amount: str = Field(description="Nanotons, a string.")
    payload: str = Field(description="Base64 BoC of the comment cell.")


class TonConnectRequestOut(BaseModel):
    """Hand this to `tonConnectUI.sendTransaction` as it is."""

    validUntil: int
    network: str
    messages: list[TonTransferMessageOut]


class TonInvoiceOut(BaseModel):
    id: int
    kind: str
    item_id: int
    asset: str
    status: str = Field(description="pending | paid | underpaid | expired")
    amount_due: str = Field(description="Nanotons.")
    amount_due_ton: str
    amount_received: str
    overpaid: str
    credits: int
    comment: str = Field(description="Must be sent as the transfer's text comment.")
    address: str = Field(description="Where to pay: the merchant, non-bounceable.")
    expires_at: datetime
    paid_at: datetime | None
    paid_late: bool
    ton_connect: TonConnectRequestOut | None = Field(
        description="What is still to pay (the rest of an under-payment), for TON Connect; "
        "null once paid."
    )
    link: str | None = Field(description="The same as a `ton://transfer` link; null once paid.")


class UIWalletOut(BaseModel):
    """One wallet as TON Connect UI's ``includeWallets`` takes it (camelCase on purpose)."""

    appName: str
    name: str
    imageUrl: str
    aboutUrl: str
    universalLink: str
    bridgeUrl: str
    platforms: list[str]


class WalletsOut(BaseModel):
    items: list[UIWalletOut]
