"""The control API under ``/_ton``: what tests (and the wallet page) do on the stand-in.

JSON in, JSON out; errors are ``{"ok": false, "error": "..."}`` with a fitting status. Amounts
are nanotons as strings or integers. Wallet secrets are returned on purpose (tests sign with
them); this is a development tool and never a production service.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from devtools.ton import cells
from devtools.ton.chain import Accepted, ChainError
from devtools.ton.devnet import ControlError, TonDevnet
from devtools.ton.tonconnect import PendingRequest, Session
from devtools.ton.wallets import WALLET_TYPE_NAMES, TestWallet, Transfer, WalletVersion

router = APIRouter(prefix="/_ton", tags=["TON stand-in control"])
Nano = Annotated[int, Field(ge=0)]


def _devnet(request: Request) -> TonDevnet:
    devnet: TonDevnet = request.app.state.ton
    devnet.chain.advance()
    return devnet


def wallet_json(devnet: TonDevnet, wallet: TestWallet) -> dict[str, Any]:
    testnet = devnet.settings.network == "testnet"
    raw = cells.to_raw(wallet.address)
    return {
        "address": wallet.raw_address,
        "raw": raw,
        "bounceable": wallet.friendly(bounceable=True, testnet=testnet),
        "non_bounceable": wallet.friendly(bounceable=False, testnet=testnet),
        "version": str(wallet.version),
        "wallet_id": wallet.wallet_id,
        "public_key": wallet.public_key.hex(),
        "secret_seed": wallet.secret_seed.hex(),
        "mnemonic": list(wallet.mnemonic) if wallet.mnemonic else None,
        "state_init": wallet.state_init_b64,
        "label": devnet.labels.get(raw),
        "policy": devnet.connector.policies.get(wallet.raw_address, "manual"),
        **account_json(devnet, wallet.address.to_str(is_user_friendly=False)),
    }


def account_json(devnet: TonDevnet, address: str) -> dict[str, Any]:
    account = devnet.chain.account(_address(address))
    last = account.last_transaction
    return {
        "balance": str(account.balance),
        "status": account.status,
        "seqno": account.seqno if account.is_wallet else None,
        "wallet_type": WALLET_TYPE_NAMES[account.version] if account.version else None,
        "last_transaction_lt": str(last.lt) if last else None,
        "last_transaction_hash": cells.b64(last.hash) if last else None,
        "transactions": len(account.transactions),
    }


def accepted_json(accepted: Accepted, boc: str | None = None) -> dict[str, Any]:
    tx = accepted.transaction
    return {
        "message_hash": cells.b64(accepted.message_hash),
        "message_hash_norm": cells.b64(accepted.message_hash_norm),
        "transaction_hash": cells.b64(tx.hash),
        "lt": str(tx.lt),
        "aborted": tx.description.aborted,
        "boc": boc,
    }


def _address(text: str) -> Any:
    try:
        return cells.parse_address(text)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from exc


def _chain_call(call: Any) -> Any:
    try:
        return call()
    except ChainError as exc:
        raise ControlError(409, exc.message) from exc


# --------------------------------------------------------------------------- overview


class ConfigIn(BaseModel):
    finality_delay: float | None = Field(default=None, ge=0)
    block_interval: float | None = Field(default=None, ge=0)
    list_unfinalized: bool | None = None
    rate_limit_rps: float | None = Field(default=None, ge=0)
    rate_limit_burst: int | None = Field(default=None, ge=1)
    api_key: str | None = None


def settings_json(devnet: TonDevnet) -> dict[str, Any]:
    s = devnet.settings
    return {
        "network": s.network,
        "api_key_required": s.api_key is not None,
        "rate_limit_rps": s.rate_limit_rps,
        "rate_limit_burst": s.rate_limit_burst,
        "block_interval": s.block_interval,
        "finality_delay": s.finality_delay,
        "list_unfinalized": s.list_unfinalized,
    }


@router.get("/state")
async def state(request: Request) -> dict[str, Any]:
    devnet = _devnet(request)
    chain = devnet.chain
    return {
        "settings": settings_json(devnet),
        "mc_seqno": chain.mc_seqno,
        "final_mc_seqno": chain.final_mc_seqno,
        "accounts": len(chain.accounts),
        "transactions": len(chain.transactions),
        "faucet": chain.faucet.raw_address,
        "faults": devnet.faults,
        "wallets": [wallet_json(devnet, wallet) for wallet in devnet.wallets.values()],
        "sessions": [session_json(session) for session in devnet.connector.sessions.values()],
        "requests": [request_json(p) for p in devnet.connector.requests()],
    }


@router.patch("/config")
async def configure(request: Request, body: ConfigIn) -> dict[str, Any]:
    """Change behaviour at runtime; ``rate_limit_rps: 0`` and ``api_key: ""`` switch off."""
    devnet = _devnet(request)
    s = devnet.settings
    for name in ("finality_delay", "block_interval", "list_unfinalized", "rate_limit_burst"):
        if (value := getattr(body, name)) is not None:
            setattr(s, name, value)
    if body.rate_limit_rps is not None:
        s.rate_limit_rps = body.rate_limit_rps or None
    if body.api_key is not None:
        s.api_key = body.api_key or None
    return settings_json(devnet)


class BlocksIn(BaseModel):
    count: int = Field(default=1, ge=1, le=1000)
    finalize: bool = True


@router.post("/blocks")
async def produce_blocks(request: Request, body: BlocksIn) -> dict[str, Any]:
    """Produce blocks now; ``finalize`` makes everything sealed final at once."""
    chain = _devnet(request).chain
    chain.produce_blocks(body.count, finalize=body.finalize)
    return {"mc_seqno": chain.mc_seqno, "final_mc_seqno": chain.final_mc_seqno}


# --------------------------------------------------------------------------- wallets


class WalletIn(BaseModel):
    version: WalletVersion = WalletVersion.V4R2
    mnemonic: list[str] | None = None
    secret_seed: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    with_mnemonic: bool = False
    balance: Nano = 0
    deployed: bool = True
    label: str | None = None


@router.post("/wallets")
async def create_wallet(request: Request, body: WalletIn) -> dict[str, Any]:
    devnet = _devnet(request)
    try:
        wallet = devnet.create_wallet(
            body.version,
            mnemonic=body.mnemonic,
            seed=bytes.fromhex(body.secret_seed) if body.secret_seed else None,
            with_mnemonic=body.with_mnemonic,
            balance=body.balance,
            deployed=body.deployed,
            label=body.label,
        )
    except ValueError as exc:
        raise ControlError(400, str(exc)) from exc
    return wallet_json(devnet, wallet)


@router.get("/wallets")
async def list_wallets(request: Request) -> list[dict[str, Any]]:
    devnet = _devnet(request)
    return [wallet_json(devnet, wallet) for wallet in devnet.wallets.values()]


@router.get("/wallets/{address}")
async def get_wallet(request: Request, address: str) -> dict[str, Any]:
    devnet = _devnet(request)
    return wallet_json(devnet, devnet.wallet(address))


@router.get("/accounts/{address}")
async def get_account(request: Request, address: str) -> dict[str, Any]:
    return account_json(_devnet(request), address)


class FundIn(BaseModel):
    address: str
    amount: Nano
    comment: str | None = None
    bounce: bool = False


@router.post("/faucet")
async def faucet(request: Request, body: FundIn) -> dict[str, Any]:
    """A real, signed transfer from the faucet wallet (non-bounceable unless asked)."""
    devnet = _devnet(request)
    destination = _address(body.address)
    accepted = _chain_call(
        lambda: devnet.fund(destination, body.amount, bounce=body.bounce, comment=body.comment)
    )
    return accepted_json(accepted)


class TransferIn(BaseModel):
    to: str
    amount: Nano
    comment: str | None = None
    payload: str | None = None
    bounce: bool | None = None
    send_mode: int = Field(default=3, ge=0, le=255)
    valid_until: int | None = None


def _transfer(body: TransferIn) -> Transfer:
    if body.comment is not None and body.payload is not None:
        raise ControlError(400, "give comment or payload, not both")
    try:
        payload = cells.parse_boc(body.payload) if body.payload else None
        bounce = body.bounce if body.bounce is not None else cells.is_bounceable_form(body.to)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from exc
    comment = cells.comment_body(body.comment) if body.comment is not None else None
    return Transfer(
        _address(body.to),
        body.amount,
        bounce=True if bounce is None else bounce,
        body=payload or comment,
        send_mode=body.send_mode,
    )


@router.post("/wallets/{address}/transfer")
async def transfer(request: Request, address: str, body: TransferIn) -> dict[str, Any]:
    """Sign as the test wallet and submit through the sendBoc path (faults do not apply)."""
    devnet = _devnet(request)
    wallet = devnet.wallet(address)
    item = _transfer(body)
    message, accepted = _chain_call(lambda: devnet.transfer(wallet, [item], body.valid_until))
    return accepted_json(accepted, cells.boc_b64(message))


@router.post("/wallets/{address}/sign")
async def sign(request: Request, address: str, body: TransferIn) -> dict[str, Any]:
    """The signed external message, not sent: post it to sendBoc yourself."""
    devnet = _devnet(request)
    message = devnet.sign(devnet.wallet(address), [_transfer(body)], body.valid_until)
    return {"boc": cells.boc_b64(message), "message_hash": cells.b64(message.hash)}


# --------------------------------------------------------------------------- bulk and faults


class SeedItem(BaseModel):
    amount: Nano
    comment: str | None = None


class SeedIn(BaseModel):
    account: str
    count: int = Field(default=0, ge=0, le=1_000_000)
    amount: Nano = 1_000_000_000
    comment_template: str | None = "seed-{i}"
    transfers: list[SeedItem] | None = None
    source: str | None = None


@router.post("/seed")
async def seed(request: Request, body: SeedIn) -> dict[str, Any]:
    """Append incoming transfers as final history in one go (``{i}`` numbers the comments)."""
    devnet = _devnet(request)
    account = devnet.chain.account(_address(body.account))
    if body.transfers is not None:
        items = [(t.amount, t.comment) for t in body.transfers]
    else:
        template = body.comment_template
        items = [
            (body.amount, template.format(i=i) if template is not None else None)
            for i in range(body.count)
        ]
    source = _address(body.source) if body.source else None
    started = time.perf_counter()
    made = devnet.chain.seed_incoming(account, items, source=source)
    return {
        "count": len(made),
        "first_lt": str(made[0].lt) if made else None,
        "last_lt": str(made[-1].lt) if made else None,
        "seconds": round(time.perf_counter() - started, 3),
    }


class FaultIn(BaseModel):
    mode: str
    count: int = Field(default=1, ge=1, le=100)


@router.post("/faults")
async def inject_fault(request: Request, body: FaultIn) -> dict[str, Any]:
    """The next ``count`` sendBoc calls: ``apply_then_fail`` (applied, answered 504), ``reject``
    (not applied, 500) or ``lose`` (answered OK, never applied)."""
    devnet = _devnet(request)
    devnet.inject_fault(body.mode, body.count)
    return {"faults": devnet.faults}


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    devnet = _devnet(request)
    devnet.clear_faults()
    return {"faults": []}


# --------------------------------------------------------------------------- TON Connect


def session_json(session: Session) -> dict[str, Any]:
    return {
        "session_id": session.id,
        "client_id": session.app_id,
        "wallet": session.wallet.raw_address,
        "domain": session.domain,
        "manifest_url": session.manifest_url,
        "app_name": session.app_name,
    }


def request_json(pending: PendingRequest) -> dict[str, Any]:
    return {
        "id": pending.id,
        "session_id": pending.session.id,
        "wallet": pending.session.wallet.raw_address,
        "domain": pending.session.domain,
        "valid_until": pending.valid_until,
        "messages": [
            {
                "address": cells.to_raw(t.destination),
                "amount": str(t.amount),
                "bounce": t.bounce,
                "comment": cells.decode_comment(t.body),
                "payload": cells.boc_b64(t.body) if t.body is not None else None,
            }
            for t in pending.transfers
        ],
    }


class ConnectIn(BaseModel):
    link: str
    domain: str | None = None
    timestamp: int | None = None
    reject: bool = False


@router.post("/wallets/{address}/connect")
async def connect(request: Request, address: str, body: ConnectIn) -> dict[str, Any]:
    """Answer a universal link as this wallet (``domain`` skips fetching the manifest)."""
    devnet = _devnet(request)
    session, event = await devnet.connector.connect(
        devnet.wallet(address),
        body.link,
        domain=body.domain,
        timestamp=body.timestamp,
        reject=body.reject,
    )
    return {"session": session_json(session) if session else None, "event": event}


class PolicyIn(BaseModel):
    policy: str


@router.put("/wallets/{address}/policy")
async def set_policy(request: Request, address: str, body: PolicyIn) -> dict[str, Any]:
    """``manual`` (hold for approve/reject), ``approve`` or ``reject`` every sendTransaction."""
    devnet = _devnet(request)
    devnet.connector.set_policy(devnet.wallet(address), body.policy)
    return {"policy": body.policy}


@router.get("/wallets/{address}/requests")
async def wallet_requests(
    request: Request, address: str, wait: float = 0.0
) -> list[dict[str, Any]]:
    """Pending sendTransaction requests; ``wait`` long-polls up to that many seconds."""
    devnet = _devnet(request)
    wallet = devnet.wallet(address)
    pending = await devnet.connector.wait_for_requests(wallet, min(max(wait, 0.0), 30.0))
    return [request_json(p) for p in pending]


@router.post("/requests/{request_id}/approve")
async def approve(request: Request, request_id: str) -> dict[str, Any]:
    return _devnet(request).connector.approve(request_id)


class RejectIn(BaseModel):
    code: int = 300
    message: str = "User declined the transaction"


@router.post("/requests/{request_id}/reject")
async def reject(request: Request, request_id: str, body: RejectIn | None = None) -> dict[str, Any]:
    body = body or RejectIn()
    _devnet(request).connector.reject(request_id, body.code, body.message)
    return {"rejected": request_id}


@router.get("/sessions")
async def sessions(request: Request) -> list[dict[str, Any]]:
    return [session_json(s) for s in _devnet(request).connector.sessions.values()]


@router.post("/sessions/{session_id}/disconnect")
async def disconnect(request: Request, session_id: str) -> dict[str, Any]:
    _devnet(request).connector.disconnect(session_id)
    return {"disconnected": session_id}
