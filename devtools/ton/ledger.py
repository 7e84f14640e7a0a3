"""What the chain records: accounts, messages, transactions and their phases.

Plain slotted records (a 100,000-transaction account must stay small); ``toncenter.py`` renders
them in toncenter's JSON shapes, ``chain.py`` creates them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell

from devtools.ton.wallets import WalletVersion, state_init_cell, wallet_code, wallet_data

ZERO_HASH = bytes(32)
STATUS_BITS = {"uninit": "00", "frozen": "01", "active": "10", "nonexist": "11"}


@dataclass(slots=True)
class Account:
    """One address on the chain; a wallet once ``version`` is set and ``status`` is active."""

    address: Address
    raw: str
    balance: int = 0
    status: str = "nonexist"
    version: WalletVersion | None = None
    public_key: bytes = b""
    wallet_id: int = 0
    seqno: int = 0
    transactions: list[Transaction] = field(default_factory=list)
    lts: list[int] = field(default_factory=list)
    _data_hash: tuple[int, bytes] | None = None

    @property
    def is_wallet(self) -> bool:
        return self.status == "active" and self.version is not None

    @property
    def code_hash(self) -> bytes | None:
        return wallet_code(self.version).hash if self.is_wallet and self.version else None

    @property
    def data_cell(self) -> Cell | None:
        if not self.is_wallet or self.version is None:
            return None
        return wallet_data(self.version, self.public_key, self.wallet_id, self.seqno)

    @property
    def data_hash(self) -> bytes | None:
        if not self.is_wallet:
            return None
        if self._data_hash is None or self._data_hash[0] != self.seqno:
            data = self.data_cell
            self._data_hash = (self.seqno, data.hash if data is not None else ZERO_HASH)
        return self._data_hash[1]

    @property
    def state_init(self) -> Cell | None:
        if self.version is None:
            return None
        return state_init_cell(self.version, self.public_key, self.wallet_id)

    def snapshot(self) -> StateSnapshot:
        code_hash, data_hash = self.code_hash, self.data_hash
        digest = hashlib.sha256(
            self.raw.encode()
            + self.balance.to_bytes(16, "big")
            + self.status.encode()
            + (code_hash or b"")
            + (data_hash or b"")
        ).digest()
        return StateSnapshot(digest, self.balance, self.status, code_hash, data_hash)

    @property
    def last_transaction(self) -> Transaction | None:
        return self.transactions[-1] if self.transactions else None


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """An account's state before or after a transaction (``hash`` is a digest of the rest)."""

    hash: bytes
    balance: int
    status: str
    code_hash: bytes | None
    data_hash: bytes | None


@dataclass(slots=True)
class Message:
    """A message as toncenter lists it; ``body_boc`` is the body cell's BoC."""

    hash: bytes
    source: str | None
    destination: str | None
    value: int | None
    body_boc: bytes
    body_hash: bytes
    opcode: int | None
    comment: str | None
    fwd_fee: int | None = None
    created_lt: int | None = None
    created_at: int | None = None
    bounce: bool | None = None
    bounced: bool | None = None
    import_fee: int | None = None
    init_boc: bytes | None = None
    init_hash: bytes | None = None

    @property
    def is_external(self) -> bool:
        return self.source is None


@dataclass(frozen=True, slots=True)
class Compute:
    skipped_reason: str | None = None
    success: bool = True
    exit_code: int = 0
    gas_used: int = 0
    gas_fees: int = 0
    account_activated: bool = False
    msg_state_used: bool = False
    external: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    success: bool = True
    no_funds: bool = False
    result_code: int = 0
    tot_actions: int = 0
    msgs_created: int = 0
    skipped_actions: int = 0
    total_fwd_fees: int = 0
    total_action_fees: int = 0
    action_list_hash: bytes = ZERO_HASH


@dataclass(frozen=True, slots=True)
class Bounce:
    kind: str  # "ok" | "nofunds"
    msg_fees: int = 0
    fwd_fees: int = 0
    bits: int = 0
    cells: int = 0


@dataclass(frozen=True, slots=True)
class Description:
    """An ordinary transaction's phases, as toncenter's ``description`` reports them."""

    aborted: bool
    compute: Compute
    credit: int | None = None
    action: Action | None = None
    bounce: Bounce | None = None
    credit_first: bool = True


@dataclass(slots=True)
class Transaction:
    """One transaction on one account; ``mc_seqno`` is set when its block is sealed."""

    account: Account
    lt: int
    now: int
    hash: bytes
    prev_hash: bytes
    prev_lt: int
    orig_status: str
    end_status: str
    total_fees: int
    in_msg: Message | None
    out_msgs: list[Message]
    description: Description
    before: StateSnapshot
    after: StateSnapshot
    mc_seqno: int | None = None
