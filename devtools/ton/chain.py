"""The in-memory chain: accounts, logical time, transactions, masterchain blocks and finality.

One basechain shard, wallets only. An external message goes through the checks its wallet
contract makes (signature, seqno, subwallet, expiry), then the compute and action phases run as
a node runs them for a wallet (gas, forwarding fees, send modes 0/1/2/128, action failure rolls
the seqno back), and each internal message is delivered at once: to a wallet (credited), to an
uninitialised address (kept if non-bounceable, bounced back if bounceable).

Blocks are produced lazily from the clock: every read first catches up with the time that
passed, so the API sees the same thing a ticker would produce, without a background task.
"""

from __future__ import annotations

import bisect
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.boc.hashmap.hashmap import HashMap
from pytoniq_core.tlb.account import StateInit
from pytoniq_core.tlb.transaction import InternalMsgInfo, MessageAny

from devtools.ton import cells
from devtools.ton import fastcells as fc
from devtools.ton.config import TonSettings
from devtools.ton.ledger import (
    STATUS_BITS,
    ZERO_HASH,
    Account,
    Action,
    Bounce,
    Compute,
    Description,
    Message,
    StateSnapshot,
    Transaction,
)
from devtools.ton.wallets import (
    TestWallet,
    WalletData,
    WalletError,
    WalletVersion,
    parse_external_body,
    parse_wallet_data,
    verify_signed_body,
    version_by_code_hash,
)

START_LT = 47_000_000_000_000
START_SEQNO = 40_000_000
GAS_PRICE = 400
FLAT_GAS_LIMIT = 100
FLAT_GAS_PRICE = 40_000
#: Approximate gas a wallet burns on a signed transfer and on a plain incoming transfer.
EXTERNAL_GAS = {WalletVersion.V3R2: 2_994, WalletVersion.V4R2: 3_308, WalletVersion.V5R1: 4_939}
INTERNAL_GAS = {WalletVersion.V3R2: 309, WalletVersion.V4R2: 309, WalletVersion.V5R1: 474}
NOT_ENOUGH_FUNDS = 37
FAUCET_SEED = bytes.fromhex("a7e1e1e1" * 8)


class ChainError(Exception):
    """An external message the chain does not accept (toncenter answers it as an error)."""

    def __init__(self, message: str, *, status: int = 500, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.exit_code = exit_code


def gas_fee(gas_used: int) -> int:
    return FLAT_GAS_PRICE + max(0, gas_used - FLAT_GAS_LIMIT) * GAS_PRICE


@dataclass(frozen=True)
class Accepted:
    """What ``submit_external`` returns: the message hashes toncenter reports."""

    message_hash: bytes
    message_hash_norm: bytes
    transaction: Transaction


@dataclass
class _Sealed:
    seqno: int
    final_at: float
    upto_lt: int


@dataclass
class _Outgoing:
    """An internal message on its way: its record plus the cells delivery needs."""

    record: Message
    body: Cell | None
    state_init: Cell | None


class Chain:
    """The chain state; every public method first catches up with the clock."""

    def __init__(self, settings: TonSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.accounts: dict[tuple[int, bytes], Account] = {}
        self.transactions: list[Transaction] = []
        self.lts: list[int] = []
        self.by_message: dict[bytes, list[tuple[Transaction, str]]] = {}
        self._lt = START_LT
        self._pending: list[Transaction] = []
        self._sealed: deque[_Sealed] = deque()
        self.mc_seqno = START_SEQNO
        self.final_upto_lt = START_LT - 1
        self._last_block_at = clock()
        self.faucet = TestWallet.from_seed(FAUCET_SEED, network=settings.network)
        self._genesis_wallet(self.faucet, settings.faucet_balance)

    # ------------------------------------------------------------------ accounts

    def account(self, address: Address) -> Account:
        """The account at ``address`` (a nonexist placeholder, not stored, if never touched)."""
        found = self.accounts.get((address.wc, address.hash_part))
        return found if found is not None else Account(Address(address), cells.to_raw(address))

    def _stored(self, account: Account) -> Account:
        return self.accounts.setdefault((account.address.wc, account.address.hash_part), account)

    def _genesis_wallet(self, wallet: TestWallet, balance: int) -> Account:
        account = self._stored(self.account(wallet.address))
        account.balance += balance
        self._install(account, wallet.version, wallet.public_key, wallet.wallet_id, seqno=0)
        return account

    def deploy_wallet(self, wallet: TestWallet, *, balance: int = 0) -> Account:
        """Make ``wallet`` exist and be active with ``balance`` (test set-up, no transaction)."""
        self.advance()
        return self._genesis_wallet(wallet, balance)

    @staticmethod
    def _install(
        account: Account, version: WalletVersion, public_key: bytes, wallet_id: int, seqno: int
    ) -> None:
        account.status, account.version = "active", version
        account.public_key, account.wallet_id, account.seqno = public_key, wallet_id, seqno

    # ------------------------------------------------------------------ time and blocks

    def _take_lt(self, count: int) -> int:
        lt = self._lt
        self._lt += count + 1
        return lt

    def advance(self) -> None:
        """Produce the blocks the clock says are due and mark the ones past the delay final."""
        now = self.clock()
        interval = self.settings.block_interval
        if interval > 0:
            due = int((now - self._last_block_at) // interval)
            if due >= 1:
                self._seal(self._last_block_at + interval, blocks=due)
                self._last_block_at += due * interval
        elif self._pending:
            self._seal(now)
            self._last_block_at = now
        while self._sealed and self._sealed[0].final_at <= now:
            self.final_upto_lt = self._sealed.popleft().upto_lt

    def _seal(self, at: float, *, blocks: int = 1) -> None:
        """Produce ``blocks`` masterchain blocks at ``at``; the first takes what is pending."""
        if blocks <= 0:
            return
        self.mc_seqno += 1
        if self._pending:
            for tx in self._pending:
                tx.mc_seqno = self.mc_seqno
            final_at = at + self.settings.finality_delay
            self._sealed.append(_Sealed(self.mc_seqno, final_at, self._pending[-1].lt))
            self._pending = []
        self.mc_seqno += blocks - 1

    def produce_blocks(self, count: int = 1, *, finalize: bool = False) -> None:
        """Produce ``count`` blocks now (the first seals what is pending); optionally make every
        sealed block final at once, whatever the finality delay."""
        self.advance()
        now = self.clock()
        self._seal(now, blocks=count)
        self._last_block_at = now
        if finalize:
            while self._sealed:
                self.final_upto_lt = self._sealed.popleft().upto_lt
        self.advance()

    @property
    def final_mc_seqno(self) -> int:
        return self._sealed[0].seqno - 1 if self._sealed else self.mc_seqno

    def is_final(self, tx: Transaction) -> bool:
        return tx.mc_seqno is not None and tx.lt <= self.final_upto_lt

    # ------------------------------------------------------------------ external messages

    def submit_external(self, boc: str | bytes) -> Accepted:
        """Check and apply a wallet's external message, as sendBoc does; raises ``ChainError``."""
        self.advance()
        try:
            message = cells.parse_boc(boc)
            parsed = MessageAny.deserialize(message.begin_parse())
        except Exception as exc:
            raise ChainError(f"cannot parse the message: {exc}", status=400) from exc
        if not parsed.is_external:
            raise ChainError("not an inbound external message", status=400)
        account = self.account(parsed.info.dest)
        version, data, activates = self._contract(account, parsed.init)
        now = int(self.clock())
        import_fee = cells.message_fees(message).total
        compute_fee = gas_fee(EXTERNAL_GAS[version])
        if account.balance < compute_fee + import_fee:
            raise _rejected(account, "not enough balance to pay for gas", exit_code=-14)
        try:
            signed = parse_external_body(version, parsed.body)
            verify_signed_body(version, signed, data, now)
        except WalletError as exc:
            raise _rejected(account, exc.message, exit_code=exc.exit_code) from exc
        account = self._stored(account)
        before = account.snapshot()
        if activates:
            self._install(account, version, data.public_key, data.wallet_id, data.seqno)
        fees = (compute_fee, import_fee)
        tx, outgoing = self._run_wallet(
            account, before, message, parsed, signed.actions, fees, activates, now
        )
        for out in outgoing:
            self._deliver(out, now)
        self.advance()
        return Accepted(message.hash, cells.normalized_external_hash(message), tx)

    def _contract(
        self, account: Account, init: StateInit | None
    ) -> tuple[WalletVersion, WalletData, bool]:
        """The wallet behind ``account``: deployed, or about to be from the message's init."""
        if account.is_wallet and account.version is not None:
            data = WalletData(account.seqno, account.wallet_id, account.public_key)
            return account.version, data, False
        if init is None:
            raise _rejected(account, "account is not initialized and the message has no init")
        if init.serialize().hash != account.address.hash_part:
            raise _rejected(account, "state_init does not match the destination address")
        version = version_by_code_hash(init.code.hash) if init.code is not None else None
        if version is None or init.data is None:
            raise _rejected(account, "unknown contract code: the stand-in runs v3R2/v4R2/v5R1")
        return version, parse_wallet_data(version, init.data), True

    def _run_wallet(
        self,
        account: Account,
        before: StateSnapshot,
        message: Cell,
        parsed: MessageAny,
        actions: Sequence[tuple[int, Cell]],
        fees: tuple[int, int],
        activated: bool,
        now: int,
    ) -> tuple[Transaction, list[_Outgoing]]:
        """Compute phase (gas, seqno + 1) then action phase; a failed action phase rolls the
        seqno back and sends nothing, but the gas is paid."""
        compute_fee, import_fee = fees
        lt = self._take_lt(len(actions))
        start_balance = account.balance - compute_fee - import_fee
        outgoing, action = self._action_phase(account, actions, start_balance, lt, now)
        account.balance = start_balance if not action.success else account.balance
        if action.success:
            account.seqno += 1
        compute = Compute(
            gas_used=EXTERNAL_GAS[account.version or WalletVersion.V4R2],
            gas_fees=compute_fee,
            account_activated=activated,
            msg_state_used=activated,
            external=True,
        )
        description = Description(aborted=not action.success, compute=compute, action=action)
        in_msg = _external_record(message, parsed, import_fee)
        tx = self._record(
            account,
            lt,
            now,
            in_msg,
            [out.record for out in outgoing],
            description,
            before,
            total_fees=compute_fee + import_fee + action.total_action_fees,
        )
        return tx, outgoing

    def _action_phase(
        self, account: Account, actions: Sequence[tuple[int, Cell]], balance: int, lt: int, now: int
    ) -> tuple[list[_Outgoing], Action]:
        """Send mode rules: +1 pays fees on top, +2 skips what cannot be paid, 128 sends all."""
        outgoing: list[_Outgoing] = []
        skipped = fwd_total = action_total = 0
        for mode, relaxed in actions:
            parsed = MessageAny.deserialize(relaxed.begin_parse())
            if not isinstance(parsed.info, InternalMsgInfo):
                return [], _failed_action(len(actions), result_code=34)
            fees = cells.message_fees(relaxed)
            value = balance if mode & 128 else parsed.info.value_coins
            need = value + fees.total if mode & 1 and not mode & 128 else value
            sent = value if mode & 1 and not mode & 128 else value - fees.total
            if need > balance or sent < 0:
                if mode & 2:
                    skipped += 1
                    continue
                return [], _failed_action(len(actions), result_code=NOT_ENOUGH_FUNDS)
            balance -= need
            fwd_total, action_total = fwd_total + fees.total, action_total + fees.action
            created_lt = lt + 1 + len(outgoing)
            outgoing.append(self._outgoing(account, parsed, sent, fees.forward, created_lt, now))
        account.balance = balance
        return outgoing, Action(
            tot_actions=len(actions),
            msgs_created=len(outgoing),
            skipped_actions=skipped,
            total_fwd_fees=fwd_total,
            total_action_fees=action_total,
            action_list_hash=_action_list_hash(actions),
        )

    def _outgoing(
        self,
        sender: Account,
        relaxed: MessageAny,
        value: int,
        forward_fee: int,
        created_lt: int,
        now: int,
    ) -> _Outgoing:
        init = relaxed.init.serialize() if relaxed.init is not None else None
        body = relaxed.body
        cell = cells.internal_message(
            sender.address,
            relaxed.info.dest,
            value,
            bounce=relaxed.info.bounce,
            body=body,
            state_init=init,
            fwd_fee=forward_fee,
            created_lt=created_lt,
            created_at=now,
        )
        record = _internal_record(
            cell,
            sender.raw,
            cells.to_raw(relaxed.info.dest),
            value,
            body,
            init,
            forward_fee,
            created_lt,
            now,
            bounce=relaxed.info.bounce,
            bounced=False,
        )
        return _Outgoing(record, body, init)

    # ------------------------------------------------------------------ internal delivery

    def _deliver(self, message: _Outgoing, now: int) -> None:
        destination = cells.parse_address(message.record.destination or "")
        account = self._stored(self.account(destination))
        value = message.record.value or 0
        if account.is_wallet:
            self._credit_wallet(account, message.record, value, now)
        elif message.record.bounce and not message.record.bounced:
            self._bounce(account, message, value, now)
        else:
            self._credit_uninit(account, message.record, value, now)

    def _credit_wallet(self, account: Account, record: Message, value: int, now: int) -> None:
        before = account.snapshot()
        fee = gas_fee(INTERNAL_GAS[account.version or WalletVersion.V4R2])
        account.balance += value - fee
        compute = Compute(
            gas_used=INTERNAL_GAS[account.version or WalletVersion.V4R2], gas_fees=fee
        )
        description = Description(
            aborted=False, compute=compute, credit=value, action=Action(), credit_first=False
        )
        lt = self._take_lt(0)
        self._record(account, lt, now, record, [], description, before, fee)

    def _credit_uninit(self, account: Account, record: Message, value: int, now: int) -> None:
        before = account.snapshot()
        account.balance += value
        account.status = "uninit" if account.status == "nonexist" else account.status
        description = Description(
            aborted=True,
            compute=Compute(skipped_reason="no_state", success=False),
            credit=value,
            credit_first=not record.bounce,
        )
        lt = self._take_lt(0)
        self._record(account, lt, now, record, [], description, before, 0)

    def _bounce(self, account: Account, message: _Outgoing, value: int, now: int) -> None:
        """A bounceable message to an address without code comes back, minus the forwarding."""
        record = message.record
        body = cells.bounce_body(message.body)
        sender = cells.parse_address(record.source or "")
        probe = cells.internal_message(account.address, sender, value, bounce=False, body=body)
        fees = cells.message_fees(probe)
        if value - fees.total <= 0:  # cannot pay for the way back: the value stays
            self._credit_uninit(account, record, value, now)
            return
        lt = self._take_lt(1)
        before = account.snapshot()
        back = value - fees.total
        cell = cells.internal_message(
            account.address,
            sender,
            back,
            bounce=False,
            bounced=True,
            body=body,
            fwd_fee=fees.forward,
            created_lt=lt + 1,
            created_at=now,
        )
        returned = _internal_record(
            cell,
            account.raw,
            record.source,
            back,
            body,
            None,
            fees.forward,
            lt + 1,
            now,
            bounce=False,
            bounced=True,
        )
        bits, cell_count = _size(body)
        description = Description(
            aborted=True,
            compute=Compute(skipped_reason="no_state", success=False),
            credit=value,
            bounce=Bounce("ok", fees.action, fees.forward, bits, cell_count),
            credit_first=False,
        )
        self._record(account, lt, now, record, [returned], description, before, fees.action)
        self._deliver(_Outgoing(returned, body, None), now)

    # ------------------------------------------------------------------ recording

    def _record(
        self,
        account: Account,
        lt: int,
        now: int,
        in_msg: Message | None,
        out_msgs: list[Message],
        description: Description,
        before: StateSnapshot,
        total_fees: int,
    ) -> Transaction:
        after = account.snapshot()
        previous = account.last_transaction
        prev_hash, prev_lt = (previous.hash, previous.lt) if previous else (ZERO_HASH, 0)
        tx = Transaction(
            account=account,
            lt=lt,
            now=now,
            hash=ZERO_HASH,
            prev_hash=prev_hash,
            prev_lt=prev_lt,
            orig_status=before.status,
            end_status=after.status,
            total_fees=total_fees,
            in_msg=in_msg,
            out_msgs=out_msgs,
            description=description,
            before=before,
            after=after,
        )
        tx.hash = transaction_hash(tx)
        self._append(tx)
        return tx

    def _append(self, tx: Transaction) -> None:
        tx.account.transactions.append(tx)
        tx.account.lts.append(tx.lt)
        self.transactions.append(tx)
        self.lts.append(tx.lt)
        self._pending.append(tx)
        if tx.in_msg is not None:
            self.by_message.setdefault(tx.in_msg.hash, []).append((tx, "in"))
        for out in tx.out_msgs:
            self.by_message.setdefault(out.hash, []).append((tx, "out"))

    # ------------------------------------------------------------------ queries

    def visible(self, tx: Transaction) -> bool:
        return self.settings.list_unfinalized or self.is_final(tx)

    def lt_range(
        self, account: Account | None, start_lt: int | None, end_lt: int | None
    ) -> tuple[list[Transaction], int, int]:
        """``(transactions, lo, hi)``: ``transactions[lo:hi]`` are the visible ones of
        ``account`` (all accounts when None) with ``start_lt <= lt <= end_lt``, in lt order.

        Final transactions are a prefix in lt order (blocks seal what is pending, in order), so
        visibility is one more bisection instead of a scan: paging 100,000 stays cheap."""
        self.advance()
        txs, lts = (account.transactions, account.lts) if account else (self.transactions, self.lts)
        lo = bisect.bisect_left(lts, start_lt) if start_lt is not None else 0
        hi = bisect.bisect_right(lts, end_lt) if end_lt is not None else len(lts)
        if not self.settings.list_unfinalized:
            hi = min(hi, bisect.bisect_right(lts, self.final_upto_lt))
        return txs, lo, max(lo, hi)

    def pending_transactions(self, accounts: Iterable[Account]) -> list[Transaction]:
        self.advance()
        return [tx for account in accounts for tx in account.transactions if not self.is_final(tx)]

    # ------------------------------------------------------------------ bulk history

    def seed_incoming(
        self,
        account: Account,
        transfers: Sequence[tuple[int, str | None]],
        *,
        source: Address | None = None,
    ) -> list[Transaction]:
        """Append incoming transfers to ``account`` as already-final history (fast, no sender).

        Everything pending is sealed and finalised first, so "final" stays a prefix of lt order.
        """
        self.produce_blocks(1, finalize=True)
        account = self._stored(account)
        source = source or Address((0, bytes.fromhex("5eed" * 16)))
        source_raw, now = cells.to_raw(source), int(self.clock())
        made = [self._seeded(account, source, source_raw, a, c, now) for a, c in transfers]
        self.produce_blocks(1, finalize=True)
        return made

    def _seeded(
        self,
        account: Account,
        source: Address,
        source_raw: str,
        amount: int,
        comment: str | None,
        now: int,
    ) -> Transaction:
        bounce = account.is_wallet
        created_lt = self._lt
        self._lt += 1
        fwd_fee = cells.LUMP_PRICE - cells.message_fees_action(cells.LUMP_PRICE)
        record = _fast_incoming(
            source, source_raw, account, amount, comment, bounce, fwd_fee, created_lt, now
        )
        if account.is_wallet:
            self._credit_wallet(account, record, amount, now)
        else:
            self._credit_uninit(account, record, amount, now)
        return account.transactions[-1]


def _fast_incoming(
    source: Address,
    source_raw: str,
    account: Account,
    amount: int,
    comment: str | None,
    bounce: bool,
    fwd_fee: int,
    created_lt: int,
    now: int,
) -> Message:
    """An incoming transfer's record built with ``fastcells`` (same hashes as pytoniq's)."""
    body = fc.comment_bits(comment) if comment is not None else fc.Bits()
    message = None
    if body is not None:
        message = fc.internal_message(
            (source.wc, source.hash_part),
            (account.address.wc, account.address.hash_part),
            amount,
            bounce=bounce,
            body=body,
            fwd_fee=fwd_fee,
            created_lt=created_lt,
            created_at=now,
        )
    if body is None or message is None:  # long comment: the general path
        body_cell = cells.comment_body(comment) if comment is not None else None
        cell = cells.internal_message(
            source,
            account.address,
            amount,
            bounce=bounce,
            body=body_cell,
            fwd_fee=fwd_fee,
            created_lt=created_lt,
            created_at=now,
        )
        return _internal_record(
            cell,
            source_raw,
            account.raw,
            amount,
            body_cell,
            None,
            fwd_fee,
            created_lt,
            now,
            bounce=bounce,
            bounced=False,
        )
    return Message(
        hash=message.hash,
        source=source_raw,
        destination=account.raw,
        value=amount,
        body_boc=fc.single_cell_boc(body),
        body_hash=fc.cell(body).hash,
        opcode=0 if comment is not None else None,
        comment=comment,
        fwd_fee=fwd_fee,
        created_lt=created_lt,
        created_at=now,
        bounce=bounce,
        bounced=False,
    )


def _rejected(account: Account, reason: str, *, exit_code: int | None = None) -> ChainError:
    """toncenter's wording for an external message the contract throws on."""
    detail = f"exitcode={exit_code}, " if exit_code is not None else ""
    return ChainError(
        "LITE_SERVER_UNKNOWN: cannot apply external message to current state : External message "
        f"was not accepted\nCannot run message on account {account.raw}: {detail}{reason}",
        exit_code=exit_code,
    )


def _failed_action(total: int, *, result_code: int) -> Action:
    return Action(
        success=False,
        no_funds=result_code == NOT_ENOUGH_FUNDS,
        result_code=result_code,
        tot_actions=total,
    )


def _action_list_hash(actions: Sequence[tuple[int, Cell]]) -> bytes:
    out_list = Cell.empty()
    for mode, message in actions:
        out_list = (
            Builder()
            .store_ref(out_list)
            .store_uint(0x0EC3C86D, 32)
            .store_uint(mode, 8)
            .store_ref(message)
            .end_cell()
        )
    return bytes(out_list.hash)


def _size(cell: Cell | None) -> tuple[int, int]:
    if cell is None:
        return 0, 0
    return len(cell.bits), 1 + sum(_size(ref)[1] for ref in cell.refs)


def _external_record(message: Cell, parsed: MessageAny, import_fee: int) -> Message:
    body = parsed.body
    init = parsed.init.serialize() if parsed.init is not None else None
    return Message(
        hash=message.hash,
        source=None,
        destination=cells.to_raw(parsed.info.dest),
        value=None,
        body_boc=cells.to_boc(body),
        body_hash=body.hash,
        opcode=cells.opcode(body),
        comment=None,
        import_fee=import_fee,
        init_boc=cells.to_boc(init) if init is not None else None,
        init_hash=init.hash if init is not None else None,
    )


def _internal_record(
    cell: Cell,
    source: str | None,
    destination: str | None,
    value: int,
    body: Cell | None,
    init: Cell | None,
    fwd_fee: int,
    created_lt: int,
    now: int,
    *,
    bounce: bool,
    bounced: bool,
) -> Message:
    body = body if body is not None else Cell.empty()
    return Message(
        hash=cell.hash,
        source=source,
        destination=destination,
        value=value,
        body_boc=cells.to_boc(body),
        body_hash=body.hash,
        opcode=cells.opcode(body),
        comment=cells.decode_comment(body),
        fwd_fee=fwd_fee,
        created_lt=created_lt,
        created_at=now,
        bounce=bounce,
        bounced=bounced,
        init_boc=cells.to_boc(init) if init is not None else None,
        init_hash=init.hash if init is not None else None,
    )


def transaction_hash(tx: Transaction) -> bytes:
    """Hash of the transaction as a cell: the TL-B header, status bits, message and account-state
    hashes are real; messages enter as digests and the description as a short summary (the
    stand-in does not serialise every phase), so the hash is unique and stable, not a node's."""
    messages = fc.Bits()
    refs: list[fc.Ref] = []
    if tx.in_msg is not None:
        messages.bit(True)
        refs.append(fc.cell(fc.Bits().bytes_(tx.in_msg.hash)))
    else:
        messages.bit(False)
    messages.bit(bool(tx.out_msgs))
    if tx.out_msgs:
        out = {i: _digest_cell(m.hash) for i, m in enumerate(tx.out_msgs)}
        serialized = HashMap(15, map_=out, value_serializer=lambda v, b: b.store_ref(v)).serialize()
        refs.append(fc.Ref(serialized.hash, serialized.get_depth()))
    update = fc.Bits().uint(0x72, 8).bytes_(tx.before.hash).bytes_(tx.after.hash)
    descr = tx.description
    summary = fc.Bits().uint(0, 4).bit(descr.credit_first).bit(descr.aborted)
    summary.int_(descr.compute.exit_code, 32).coins(descr.compute.gas_fees)
    root = fc.Bits().uint(0b0111, 4).bytes_(tx.account.address.hash_part).uint(tx.lt, 64)
    root.bytes_(tx.prev_hash).uint(tx.prev_lt, 64).uint(tx.now, 32).uint(len(tx.out_msgs), 15)
    root.uint(int(STATUS_BITS[tx.orig_status], 2), 2).uint(int(STATUS_BITS[tx.end_status], 2), 2)
    root.coins(tx.total_fees).bit(False)
    children = [fc.cell(messages, refs), fc.cell(update), fc.cell(summary)]
    return fc.cell(root, children).hash


def _digest_cell(message_hash: bytes) -> Cell:
    """Stands for a message cell inside the transaction (its hash is what makes it unique)."""
    return Builder().store_bytes(message_hash).end_cell()
