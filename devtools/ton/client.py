"""``TonClient``: the stand-in's control API from Python, for tests and other parts' fixtures.

Every call is one HTTP request to ``/_ton/...``; failures raise ``TonError`` with the server's
message. Amounts are nanotons (``int``). Wallets are addressed by any address form or by the
``WalletInfo`` a call returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from devtools.ton.wallets import TestWallet, WalletVersion


class TonError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class WalletInfo:
    """A test wallet: address forms, keys (hex) and its account state when it was read."""

    address: str  # raw 0:<hex>, as TON Connect's ton_addr carries it
    bounceable: str
    non_bounceable: str
    version: str
    wallet_id: int
    public_key: str
    secret_seed: str
    mnemonic: list[str] | None
    state_init: str
    balance: int
    status: str
    seqno: int | None
    label: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WalletInfo:
        return cls(
            address=data["address"],
            bounceable=data["bounceable"],
            non_bounceable=data["non_bounceable"],
            version=data["version"],
            wallet_id=data["wallet_id"],
            public_key=data["public_key"],
            secret_seed=data["secret_seed"],
            mnemonic=data.get("mnemonic"),
            state_init=data["state_init"],
            balance=int(data["balance"]),
            status=data["status"],
            seqno=data.get("seqno"),
            label=data.get("label"),
        )

    def test_wallet(self) -> TestWallet:
        """The same key pair and contract, to sign proofs or transfers locally."""
        return TestWallet(
            WalletVersion(self.version),
            bytes.fromhex(self.secret_seed),
            self.wallet_id,
            int(self.address.split(":", 1)[0]),
            tuple(self.mnemonic) if self.mnemonic else None,
        )


@dataclass(frozen=True)
class AccountInfo:
    balance: int
    status: str
    seqno: int | None
    wallet_type: str | None
    last_transaction_lt: int | None
    last_transaction_hash: str | None
    transactions: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccountInfo:
        lt = data.get("last_transaction_lt")
        return cls(
            balance=int(data["balance"]),
            status=data["status"],
            seqno=data.get("seqno"),
            wallet_type=data.get("wallet_type"),
            last_transaction_lt=int(lt) if lt is not None else None,
            last_transaction_hash=data.get("last_transaction_hash"),
            transactions=data["transactions"],
        )


@dataclass(frozen=True)
class SendResult:
    """An applied external message: its hashes and the sender's transaction."""

    message_hash: str
    message_hash_norm: str
    transaction_hash: str
    lt: int
    aborted: bool
    boc: str | None


@dataclass(frozen=True)
class ConnectResult:
    """``session_id`` is None when the wallet declined or the manifest failed."""

    session_id: str | None
    client_id: str | None
    domain: str | None
    event: dict[str, Any]


@dataclass(frozen=True)
class PendingTransaction:
    id: str
    session_id: str
    wallet: str
    domain: str
    valid_until: int | None
    messages: list[dict[str, Any]]


@dataclass(frozen=True)
class SeedResult:
    count: int
    first_lt: int | None
    last_lt: int | None
    seconds: float


def _address(wallet: WalletInfo | str) -> str:
    return wallet.address if isinstance(wallet, WalletInfo) else wallet


class TonClient:
    """``async with TonClient(base_url) as ton: ...`` (``base_url`` of the stand-in)."""

    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=f"{self.base_url}/_ton", timeout=timeout)

    async def __aenter__(self) -> TonClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise TonError(response.status_code, str(message))
        return response.json()

    # ------------------------------------------------------------------ URLs

    @property
    def api_base(self) -> str:
        """What ``TON_API_BASE`` should be: toncenter paths hang off it."""
        return self.base_url

    @property
    def bridge_url(self) -> str:
        return f"{self.base_url}/bridge"

    @property
    def wallets_list_url(self) -> str:
        return f"{self.base_url}/tonconnect/wallets-v2.json"

    @property
    def demo_manifest_url(self) -> str:
        return f"{self.base_url}/tonconnect/manifest.json"

    def pytonconnect_wallet(self) -> dict[str, str]:
        """The wallet dict for ``TonConnect.connect(wallet)`` (no wallet-list fetch needed)."""
        from devtools.ton.app import pytonconnect_wallet

        return pytonconnect_wallet(self.base_url)

    # ------------------------------------------------------------------ chain

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/state")
        return result

    async def configure(self, **settings: Any) -> dict[str, Any]:
        """``finality_delay``, ``block_interval``, ``list_unfinalized``, ``rate_limit_rps``
        (0: off), ``rate_limit_burst``, ``api_key`` ("" : none)."""
        result: dict[str, Any] = await self._call("PATCH", "/config", json=settings)
        return result

    async def produce_blocks(self, count: int = 1, *, finalize: bool = True) -> tuple[int, int]:
        """Returns ``(mc_seqno, final_mc_seqno)``."""
        data = await self._call("POST", "/blocks", json={"count": count, "finalize": finalize})
        return data["mc_seqno"], data["final_mc_seqno"]

    async def account(self, address: WalletInfo | str) -> AccountInfo:
        return AccountInfo.from_json(await self._call("GET", f"/accounts/{_address(address)}"))

    async def seed_transactions(
        self,
        account: WalletInfo | str,
        *,
        count: int = 0,
        amount: int = 1_000_000_000,
        comment_template: str | None = "seed-{i}",
        transfers: list[tuple[int, str | None]] | None = None,
        source: str | None = None,
    ) -> SeedResult:
        """Append incoming transfers to ``account`` as final history (``{i}`` numbers them)."""
        body: dict[str, Any] = {
            "account": _address(account),
            "count": count,
            "amount": amount,
            "comment_template": comment_template,
            "source": source,
        }
        if transfers is not None:
            body["transfers"] = [{"amount": a, "comment": c} for a, c in transfers]
        data = await self._call("POST", "/seed", json=body)
        first, last = data.get("first_lt"), data.get("last_lt")
        return SeedResult(
            data["count"],
            int(first) if first else None,
            int(last) if last else None,
            data["seconds"],
        )

    async def inject_fault(self, mode: str, count: int = 1) -> list[str]:
        """``apply_then_fail``, ``reject`` or ``lose`` for the next ``count`` sendBoc calls."""
        data = await self._call("POST", "/faults", json={"mode": mode, "count": count})
        return list(data["faults"])

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    # ------------------------------------------------------------------ wallets

    async def create_wallet(
        self,
        version: str = "v4r2",
        *,
        balance: int = 0,
        deployed: bool = True,
        mnemonic: list[str] | None = None,
        secret_seed: str | None = None,
        with_mnemonic: bool = False,
        label: str | None = None,
    ) -> WalletInfo:
        body = {
            "version": version,
            "balance": balance,
            "deployed": deployed,
            "mnemonic": mnemonic,
            "secret_seed": secret_seed,
            "with_mnemonic": with_mnemonic,
            "label": label,
        }
        return WalletInfo.from_json(await self._call("POST", "/wallets", json=body))

    async def wallet(self, address: WalletInfo | str) -> WalletInfo:
        return WalletInfo.from_json(await self._call("GET", f"/wallets/{_address(address)}"))

    async def wallets(self) -> list[WalletInfo]:
        return [WalletInfo.from_json(item) for item in await self._call("GET", "/wallets")]

    async def fund(
        self,
        address: WalletInfo | str,
        amount: int,
        *,
        comment: str | None = None,
        bounce: bool = False,
    ) -> SendResult:
        """A signed transfer from the faucet wallet."""
        body = {
            "address": _address(address),
            "amount": amount,
            "comment": comment,
            "bounce": bounce,
        }
        return _send_result(await self._call("POST", "/faucet", json=body))

    async def transfer(
        self,
        wallet: WalletInfo | str,
        to: str,
        amount: int,
        *,
        comment: str | None = None,
        payload: str | None = None,
        bounce: bool | None = None,
        send_mode: int = 3,
        valid_until: int | None = None,
    ) -> SendResult:
        """Sign as the test wallet and submit; ``bounce`` None follows the address form."""
        body = _transfer_body(to, amount, comment, payload, bounce, send_mode, valid_until)
        data = await self._call("POST", f"/wallets/{_address(wallet)}/transfer", json=body)
        return _send_result(data)

    async def sign_transfer(
        self,
        wallet: WalletInfo | str,
        to: str,
        amount: int,
        *,
        comment: str | None = None,
        payload: str | None = None,
        bounce: bool | None = None,
        send_mode: int = 3,
        valid_until: int | None = None,
    ) -> str:
        """The signed external message (base64 BoC), not sent."""
        body = _transfer_body(to, amount, comment, payload, bounce, send_mode, valid_until)
        data = await self._call("POST", f"/wallets/{_address(wallet)}/sign", json=body)
        return str(data["boc"])

    # ------------------------------------------------------------------ TON Connect

    async def connect(
        self,
        wallet: WalletInfo | str,
        link: str,
        *,
        domain: str | None = None,
        timestamp: int | None = None,
        reject: bool = False,
    ) -> ConnectResult:
        """Answer a TON Connect universal link as ``wallet`` (proof included when asked)."""
        body = {"link": link, "domain": domain, "timestamp": timestamp, "reject": reject}
        data = await self._call("POST", f"/wallets/{_address(wallet)}/connect", json=body)
        session = data.get("session") or {}
        return ConnectResult(
            session.get("session_id"),
            session.get("client_id"),
            session.get("domain"),
            data["event"],
        )

    async def set_policy(self, wallet: WalletInfo | str, policy: str) -> None:
        """``manual`` (default), ``approve`` or ``reject`` for sendTransaction requests."""
        await self._call("PUT", f"/wallets/{_address(wallet)}/policy", json={"policy": policy})

    async def pending_requests(
        self, wallet: WalletInfo | str, *, wait: float = 0.0
    ) -> list[PendingTransaction]:
        data = await self._call(
            "GET", f"/wallets/{_address(wallet)}/requests", params={"wait": wait}
        )
        return [
            PendingTransaction(
                d["id"], d["session_id"], d["wallet"], d["domain"], d["valid_until"], d["messages"]
            )
            for d in data
        ]

    async def approve(self, request_id: str) -> dict[str, Any]:
        """Sign and submit the request; returns boc, message_hash, transaction_hash, lt."""
        result: dict[str, Any] = await self._call("POST", f"/requests/{request_id}/approve")
        return result

    async def reject(
        self, request_id: str, *, code: int = 300, message: str = "User declined the transaction"
    ) -> None:
        await self._call(
            "POST", f"/requests/{request_id}/reject", json={"code": code, "message": message}
        )

    async def disconnect(self, session_id: str) -> None:
        await self._call("POST", f"/sessions/{session_id}/disconnect")


def _transfer_body(
    to: str,
    amount: int,
    comment: str | None,
    payload: str | None,
    bounce: bool | None,
    send_mode: int,
    valid_until: int | None,
) -> dict[str, Any]:
    return {
        "to": to,
        "amount": amount,
        "comment": comment,
        "payload": payload,
        "bounce": bounce,
        "send_mode": send_mode,
        "valid_until": valid_until,
    }


def _send_result(data: dict[str, Any]) -> SendResult:
    return SendResult(
        message_hash=data["message_hash"],
        message_hash_norm=data["message_hash_norm"],
        transaction_hash=data["transaction_hash"],
        lt=int(data["lt"]),
        aborted=data["aborted"],
        boc=data.get("boc"),
    )
