"""``TonDevnet``: everything one stand-in process holds — chain, bridge, test wallets, faults.

The HTTP layers (``toncenter.py``, ``control.py``, the bridge routes) are thin; what they do is
here, so tests and ``atelier dev`` can also drive it in-process through ``app.state.ton``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell

from devtools.ton import cells
from devtools.ton.bridge import Bridge
from devtools.ton.chain import Accepted, Chain, ChainError
from devtools.ton.config import TonSettings
from devtools.ton.tonconnect import WalletConnector
from devtools.ton.wallets import TestWallet, Transfer, WalletVersion

FAULT_MODES = ("apply_then_fail", "reject", "lose")


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per caller (API key, or client address without one)."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, caller: str, rps: float | None, burst: int) -> bool:
        if rps is None:
            return True
        now = time.monotonic()
        bucket = self._buckets.setdefault(caller, _Bucket(float(burst), now))
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rps)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True


class TonDevnet:
    """The stand-in's state; create one per app (``create_app``) or per test."""

    def __init__(self, settings: TonSettings | None = None) -> None:
        self.settings = settings or TonSettings()
        self.chain = Chain(self.settings)
        self.bridge = Bridge(
            heartbeat=self.settings.bridge_heartbeat, max_ttl=self.settings.bridge_max_ttl
        )
        self.wallets: dict[str, TestWallet] = {}
        self.labels: dict[str, str] = {}
        self.connector = WalletConnector(self)
        self.limiter = RateLimiter()
        self._faults: deque[str] = deque()

    # ------------------------------------------------------------------ wallets

    def create_wallet(
        self,
        version: WalletVersion = WalletVersion.V4R2,
        *,
        mnemonic: Sequence[str] | str | None = None,
        seed: bytes | None = None,
        with_mnemonic: bool = False,
        balance: int = 0,
        deployed: bool = True,
        label: str | None = None,
    ) -> TestWallet:
        """A test wallet the stand-in can sign for; ``deployed`` False leaves it uninit with
        ``balance`` (its first transfer then carries the state_init, as wallet apps do)."""
        network = self.settings.network
        if mnemonic is not None:
            wallet = TestWallet.from_mnemonic(mnemonic, version, network=network)
        elif with_mnemonic:
            wallet = TestWallet.generate(version, network=network)
        else:
            wallet = TestWallet.from_seed(seed, version, network=network)
        raw = cells.to_raw(wallet.address)
        self.wallets[raw] = wallet
        if label:
            self.labels[raw] = label
        if deployed:
            self.chain.deploy_wallet(wallet, balance=balance)
        elif balance:
            self.fund(wallet.address, balance, bounce=False)
        return wallet

    def wallet(self, address: str) -> TestWallet:
        try:
            raw = cells.to_raw(cells.parse_address(address))
        except ValueError as exc:
            raise ControlError(400, str(exc)) from exc
        wallet = self.wallets.get(raw)
        if wallet is None:
            raise ControlError(404, f"{address} is not a test wallet of this stand-in")
        return wallet

    def sign(
        self, wallet: TestWallet, transfers: Sequence[Transfer], valid_until: int | None = None
    ) -> Cell:
        """The external message ``wallet`` would send now (right seqno, init when undeployed)."""
        account = self.chain.account(wallet.address)
        seqno = account.seqno if account.is_wallet else 0
        valid_until = valid_until if valid_until is not None else int(time.time()) + 60
        return wallet.external_message(
            seqno, transfers, valid_until=valid_until, with_state_init=not account.is_wallet
        )

    def transfer(
        self, wallet: TestWallet, transfers: Sequence[Transfer], valid_until: int | None = None
    ) -> tuple[Cell, Accepted]:
        """Sign and submit through the same path sendBoc uses; raises ``ChainError``."""
        message = self.sign(wallet, transfers, valid_until)
        return message, self.chain.submit_external(cells.to_boc(message))

    def fund(
        self, address: Address, amount: int, *, bounce: bool = False, comment: str | None = None
    ) -> Accepted:
        """A real transfer from the faucet wallet (its balance is topped up when it runs dry)."""
        faucet = self.chain.account(self.chain.faucet.address)
        if faucet.balance < amount + 10 * cells.LUMP_PRICE:
            faucet.balance += amount + self.settings.faucet_balance
        body = cells.comment_body(comment) if comment is not None else None
        transfer = Transfer(address, amount, bounce=bounce, body=body)
        return self.transfer(self.chain.faucet, [transfer])[1]

    # ------------------------------------------------------------------ faults

    def inject_fault(self, mode: str, count: int = 1) -> None:
        if mode not in FAULT_MODES:
            raise ControlError(400, f"mode must be one of {', '.join(FAULT_MODES)}")
        self._faults.extend([mode] * count)

    def clear_faults(self) -> None:
        self._faults.clear()

    def take_fault(self) -> str | None:
        return self._faults.popleft() if self._faults else None

    @property
    def faults(self) -> list[str]:
        return list(self._faults)

    async def close(self) -> None:
        await self.connector.close()
        await self.bridge.close()


__all__ = ["ChainError", "ControlError", "RateLimiter", "TonDevnet"]
