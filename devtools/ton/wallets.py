"""Wallet contracts the stand-in speaks: v3R2, v4R2 and v5R1, with real code, state and signatures.

The code cells are the public on-chain contracts (their hashes are the ones toncenter lists), so an
address made here is the address the same key has on the real network, and a state_init made here
passes any "stateInit hash equals the address" check. ``TestWallet`` is the key holder tests use:
it derives the address, signs transfers exactly as wallet apps do and parses them back
(``parse_external_body``) so the chain can verify what it is sent.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from nacl.signing import SigningKey, VerifyKey
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.crypto.keys import (
    mnemonic_is_valid,
    mnemonic_new,
    mnemonic_to_private_key,
)
from pytoniq_core.tlb.account import StateInit

from devtools.ton.cells import external_message, internal_message_relaxed, to_boc

MAINNET_GLOBAL_ID = -239
TESTNET_GLOBAL_ID = -3
#: v3/v4 wallets sign "valid until the end of time" for their very first (deploying) message.
NO_EXPIRY = 0xFFFFFFFF
V5_SIGNED_EXTERNAL_OP = 0x7369676E  # "sign"
V5_SEND_MSG_ACTION = 0x0EC3C86D


class WalletVersion(StrEnum):
    V3R2 = "v3r2"
    V4R2 = "v4r2"
    V5R1 = "v5r1"


_CODE_BOC = {
    WalletVersion.V3R2: (
        "te6ccgEBAQEAcQAA3v8AIN0gggFMl7ohggEznLqxn3Gw7UTQ0x/THzHXC//jBOCk8mCDCNcYINMf0x/TH/gjE7vy"
        "Y+1E0NMf0x/T/9FRMrryoVFEuvKiBPkBVBBV+RDyo/gAkyDXSpbTB9QC+wDo0QGkyMsfyx/L/8ntVA=="
    ),
    WalletVersion.V4R2: (
        "te6ccgECFAEAAtQAART/APSkE/S88sgLAQIBIAIPAgFIAwYC5tAB0NMDIXGwkl8E4CLXScEgkl8E4ALTHyGCEHBs"
        "dWe9IoIQZHN0cr2wkl8F4AP6QDAg+kQByMoHy//J0O1E0IEBQNch9AQwXIEBCPQKb6Exs5JfB+AF0z/IJYIQcGx1"
        "Z7qSODDjDQOCEGRzdHK6kl8G4w0EBQB4AfoA9AQw+CdvIjBQCqEhvvLgUIIQcGx1Z4MesXCAGFAEywUmzxZY+gIZ"
        "9ADLaRfLH1Jgyz8gyYBA+wAGAIpQBIEBCPRZMO1E0IEBQNcgyAHPFvQAye1UAXKwjiOCEGRzdHKDHrFwgBhQBcsF"
        "UAPPFiP6AhPLassfyz/JgED7AJJfA+ICASAHDgIBIAgNAgFYCQoAPbKd+1E0IEBQNch9AQwAsjKB8v/ydABgQEI"
        "9ApvoTGACASALDAAZrc52omhAIGuQ64X/wAAZrx32omhAEGuQ64WPwAARuMl+1E0NcLH4AFm9JCtvaiaECAoGuQ"
        "+gIYRw1AgIR6STfSmRDOaQPp/5g3gSgBt4EBSJhxWfMYQE+PKDCNcYINMf0x/THwL4I7vyZO1E0NMf0x/T//QE0"
        "VFDuvKhUVG68qIF+QFUEGT5EPKj+AAkpMjLH1JAyx9SMMv/UhD0AMntVPgPAdMHIcAAn2xRkyDXSpbTB9QC+wDo"
        "MOAhwAHjACHAAuMAAcADkTDjDQOkyMsfEssfy/8QERITAG7SB/oA1NQi+QAFyMoHFcv/ydB3dIAYyMsFywIizxZQ"
        "BfoCFMtrEszMyXP7AMhAFIEBCPRR8qcCAHCBAQjXGPoA0z/IVCBHgQEI9FHyp4IQbm90ZXB0gBjIywXLAlAGzxZQ"
        "BPoCFMtqEssfyz/Jc/sAAgBsgQEI1xj6ANM/MFIkgQEI9Fnyp4IQZHN0cnB0gBjIywXLAlAFzxZQA/oCE8tqyx8S"
        "yz/Jc/sAAAr0AMntVA=="
    ),
    WalletVersion.V5R1: (
        "te6ccgECFAEAAoEAART/APSkE/S88sgLAQIBIAINAgFIAwQC3NAg10nBIJFbj2Mg1wsfIIIQZXh0br0hghBzaW50"
        "vbCSXwPgghBleHRuuo60gCDXIQHQdNch+kAw+kT4KPpEMFi9kVvg7UTQgQFB1yH0BYMH9A5voTGRMOGAQNchcH/b"
        "POAxINdJgQKAuZEw4HDiEA8CASAFDAIBIAYJAgFuBwgAGa3OdqJoQCDrkOuF/8AAGa8d9qJoQBDrkOuFj8ACAUgK"
        "CwAXsyX7UTQcdch1wsfgABGyYvtRNDXCgCAAGb5fD2omhAgKDrkPoCwBAvIOAR4g1wsfghBzaWduuvLgin8PAeaO"
        "8O2i7fshgwjXIgKDCNcjIIAg1yHTH9Mf0x/tRNDSANMfINMf0//XCgAK+QFAzPkQmiiUXwrbMeHywIffArNQB7Dy"
        "0IRRJbry4IVQNrry4Ib4I7vy0IgikvgA3gGkf8jKAMsfAc8Wye1UIJL4D95w2zzYEAP27aLt+wL0BCFukmwhjkwC"
        "Idc5MHCUIccAs44tAdcoIHYeQ2wg10nACPLgkyDXSsAC8uCTINcdBscSwgBSMLDy0InXTNc5MAGk6GwShAe78uCT"
        "10rAAPLgk+1V4tIAAcAAkVvg69csCBQgkXCWAdcsCBwS4lIQseMPINdKERITAJYB+kAB+kT4KPpEMFi68uCR7UTQ"
        "gQFB1xj0BQSdf8jKAEAEgwf0U/Lgi44UA4MH9Fvy4Iwi1woAIW4Bs7Dy0JDiyFADzxYS9ADJ7VQAcjDXLAgkji0h"
        "8uCS0gDtRNDSAFETuvLQj1RQMJExnAGBAUDXIdcKAPLgjuLIygBYzxbJ7VST8sCN4gAQk1vbMeHXTNA="
    ),
}

#: toncenter's names for the wallet types (``wallet_type`` in wallet information).
WALLET_TYPE_NAMES = {
    WalletVersion.V3R2: "wallet v3 r2",
    WalletVersion.V4R2: "wallet v4 r2",
    WalletVersion.V5R1: "wallet v5 r1",
}
#: How many messages one signed transfer may carry.
MAX_MESSAGES = {WalletVersion.V3R2: 4, WalletVersion.V4R2: 4, WalletVersion.V5R1: 255}


class WalletError(Exception):
    """A transfer the wallet contract refuses; ``exit_code`` is the contract's own throw code."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


@cache
def wallet_code(version: WalletVersion) -> Cell:
    return Cell.one_from_boc(base64.b64decode(_CODE_BOC[version]))


@cache
def _versions_by_code_hash() -> dict[bytes, WalletVersion]:
    return {wallet_code(version).hash: version for version in WalletVersion}


def version_by_code_hash(code_hash: bytes) -> WalletVersion | None:
    return _versions_by_code_hash().get(code_hash)


def network_global_id(network: str) -> int:
    return TESTNET_GLOBAL_ID if network == "testnet" else MAINNET_GLOBAL_ID


def default_wallet_id(version: WalletVersion, workchain: int = 0, network: str = "mainnet") -> int:
    """The subwallet id wallet apps use by default (v5R1 mixes in the network and workchain)."""
    if version is WalletVersion.V5R1:
        context = (1 << 31) | ((workchain & 0xFF) << 23)  # client context, version 0, subwallet 0
        return (network_global_id(network) ^ context) & 0xFFFFFFFF
    return 698983191 + workchain


def wallet_data(version: WalletVersion, public_key: bytes, wallet_id: int, seqno: int = 0) -> Cell:
    """The contract's persistent data (c4) for ``seqno``."""
    builder = Builder()
    if version is WalletVersion.V5R1:
        builder.store_bit(1)  # is_signature_allowed
    builder.store_uint(seqno, 32).store_uint(wallet_id, 32).store_bytes(public_key)
    if version is not WalletVersion.V3R2:
        builder.store_bit(0)  # v4: no plugins; v5: no extensions
    return builder.end_cell()


@dataclass(frozen=True)
class WalletData:
    """What the chain reads back from a wallet's data cell."""

    seqno: int
    wallet_id: int
    public_key: bytes


def parse_wallet_data(version: WalletVersion, data: Cell) -> WalletData:
    cs = data.begin_parse()
    if version is WalletVersion.V5R1:
        cs.load_bit()
    seqno, wallet_id = cs.load_uint(32), cs.load_uint(32)
    return WalletData(seqno=seqno, wallet_id=wallet_id, public_key=cs.load_bytes(32))


def state_init_cell(version: WalletVersion, public_key: bytes, wallet_id: int) -> Cell:
    init = StateInit(code=wallet_code(version), data=wallet_data(version, public_key, wallet_id))
    return init.serialize()


@dataclass(frozen=True)
class Transfer:
    """One message a wallet sends: ``body`` is a cell (a comment is op 0 + snake text)."""

    destination: Address
    amount: int
    bounce: bool = True
    body: Cell | None = None
    state_init: Cell | None = None
    send_mode: int = 3  # pay fees separately + ignore errors, as wallet apps do


@dataclass(frozen=True)
class SignedBody:
    """A wallet's external message body, parsed; ``signed_hash`` is what the signature covers."""

    signature: bytes
    signed_hash: bytes
    wallet_id: int
    valid_until: int
    seqno: int
    actions: list[tuple[int, Cell]]


@dataclass(frozen=True)
class TestWallet:
    """A wallet key pair with its contract: address, state_init, and real signatures.

    ``secret_seed`` is the 32-byte Ed25519 seed (what ``mnemonic_to_private_key`` yields first
    32 bytes of); never log it. Build one with ``generate``, ``from_mnemonic`` or ``from_seed``.
    """

    __test__ = False  # not a pytest test class, despite the name

    version: WalletVersion
    secret_seed: bytes = field(repr=False)
    wallet_id: int
    workchain: int = 0
    mnemonic: tuple[str, ...] | None = field(default=None, repr=False)

    @classmethod
    def generate(
        cls, version: WalletVersion = WalletVersion.V4R2, *, network: str = "mainnet"
    ) -> TestWallet:
        """A fresh 24-word mnemonic wallet (slow: TON's key derivation runs PBKDF2 twice)."""
        return cls.from_mnemonic(mnemonic_new(24), version, network=network)

    @classmethod
    def from_mnemonic(
        cls,
        words: Sequence[str] | str,
        version: WalletVersion = WalletVersion.V4R2,
        *,
        network: str = "mainnet",
        workchain: int = 0,
        wallet_id: int | None = None,
    ) -> TestWallet:
        mnemonic = tuple(words.split() if isinstance(words, str) else words)
        if not mnemonic_is_valid(list(mnemonic)):
            raise ValueError("not a valid TON mnemonic (24 words with a basic seed)")
        _public, private = mnemonic_to_private_key(list(mnemonic))
        wallet = cls.from_seed(
            bytes(private[:32]), version, network=network, workchain=workchain, wallet_id=wallet_id
        )
        return TestWallet(
            wallet.version, wallet.secret_seed, wallet.wallet_id, workchain, mnemonic=mnemonic
        )

    @classmethod
    def from_seed(
        cls,
        seed: bytes | None = None,
        version: WalletVersion = WalletVersion.V4R2,
        *,
        network: str = "mainnet",
        workchain: int = 0,
        wallet_id: int | None = None,
    ) -> TestWallet:
        """From a 32-byte Ed25519 seed (random when omitted: fast, no mnemonic)."""
        seed = seed if seed is not None else secrets.token_bytes(32)
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        if wallet_id is None:
            wallet_id = default_wallet_id(version, workchain, network)
        return cls(version, seed, wallet_id, workchain)

    @property
    def signing_key(self) -> SigningKey:
        return SigningKey(self.secret_seed)

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def state_init(self) -> Cell:
        return state_init_cell(self.version, self.public_key, self.wallet_id)

    @property
    def state_init_b64(self) -> str:
        return base64.b64encode(to_boc(self.state_init)).decode()

    @property
    def address(self) -> Address:
        return Address((self.workchain, self.state_init.hash))

    @property
    def raw_address(self) -> str:
        """``0:<hex>``, the form TON Connect's ``ton_addr`` and toncenter v3 use."""
        return str(self.address.to_str(is_user_friendly=False))

    def friendly(self, *, bounceable: bool = False, testnet: bool = False) -> str:
        return str(self.address.to_str(is_bounceable=bounceable, is_test_only=testnet))

    def sign(self, data: bytes) -> bytes:
        return self.signing_key.sign(data).signature

    def transfer_body(
        self, seqno: int, transfers: Sequence[Transfer], valid_until: int | None = None
    ) -> Cell:
        """The signed body of an external message carrying ``transfers``."""
        if len(transfers) > MAX_MESSAGES[self.version]:
            raise ValueError(f"{self.version} sends at most {MAX_MESSAGES[self.version]} messages")
        if valid_until is None:
            valid_until = NO_EXPIRY if seqno == 0 else int(time.time()) + 60
        if self.version is WalletVersion.V5R1:
            return self._v5_body(seqno, transfers, valid_until)
        unsigned = Builder().store_uint(self.wallet_id, 32).store_uint(valid_until, 32)
        unsigned.store_uint(seqno, 32)
        if self.version is WalletVersion.V4R2:
            unsigned.store_uint(0, 8)  # op 0: simple send
        for transfer in transfers:
            unsigned.store_uint(transfer.send_mode, 8).store_ref(_relaxed(transfer))
        signed = unsigned.end_cell()
        return Builder().store_bytes(self.sign(signed.hash)).store_cell(signed).end_cell()

    def _v5_body(self, seqno: int, transfers: Sequence[Transfer], valid_until: int) -> Cell:
        actions = Cell.empty()
        for transfer in transfers:
            actions = (
                Builder()
                .store_ref(actions)
                .store_uint(V5_SEND_MSG_ACTION, 32)
                .store_uint(transfer.send_mode, 8)
                .store_ref(_relaxed(transfer))
                .end_cell()
            )
        unsigned = (
            Builder()
            .store_uint(V5_SIGNED_EXTERNAL_OP, 32)
            .store_uint(self.wallet_id, 32)
            .store_uint(valid_until, 32)
            .store_uint(seqno, 32)
            .store_maybe_ref(actions if transfers else None)
            .store_bit(0)  # no extended actions
            .end_cell()
        )
        return unsigned.to_builder().store_bytes(self.sign(unsigned.hash)).end_cell()

    def external_message(
        self,
        seqno: int,
        transfers: Sequence[Transfer],
        *,
        valid_until: int | None = None,
        with_state_init: bool | None = None,
    ) -> Cell:
        """The whole external message a wallet app sends (state_init attached on first use)."""
        attach = seqno == 0 if with_state_init is None else with_state_init
        return external_message(
            self.address,
            self.transfer_body(seqno, transfers, valid_until),
            state_init=self.state_init if attach else None,
        )


def _relaxed(transfer: Transfer) -> Cell:
    return internal_message_relaxed(
        transfer.destination,
        transfer.amount,
        bounce=transfer.bounce,
        body=transfer.body,
        state_init=transfer.state_init,
    )


def parse_external_body(version: WalletVersion, body: Cell) -> SignedBody:
    """Split a wallet's signed body into its fields, or raise ``WalletError`` (exit code 9)."""
    try:
        if version is WalletVersion.V5R1:
            return _parse_v5(body)
        return _parse_v3_v4(version, body)
    except WalletError:
        raise
    except Exception as exc:  # pytoniq raises bare errors on short slices
        raise WalletError(9, f"cell underflow while parsing the message body: {exc}") from exc


def _parse_v3_v4(version: WalletVersion, body: Cell) -> SignedBody:
    cs = body.begin_parse()
    signature = cs.load_bytes(64)
    signed_hash = cs.copy().to_cell().hash
    wallet_id, valid_until, seqno = cs.load_uint(32), cs.load_uint(32), cs.load_uint(32)
    if version is WalletVersion.V4R2 and (op := cs.load_uint(8)) != 0:
        raise WalletError(0xFFFF, f"wallet v4 op {op} (plugins) is not supported by the stand-in")
    actions: list[tuple[int, Cell]] = []
    while cs.remaining_refs:
        actions.append((cs.load_uint(8), cs.load_ref()))
    return SignedBody(signature, signed_hash, wallet_id, valid_until, seqno, actions)


def _parse_v5(body: Cell) -> SignedBody:
    bits = body.bits
    if len(bits) < 512 + 32 * 4 + 2:
        raise WalletError(9, "message body too short")
    signed = Builder().store_bits(bits[: len(bits) - 512])
    for ref in body.refs:
        signed.store_ref(ref)
    signed_cell = signed.end_cell()
    signature = bits[len(bits) - 512 :].tobytes()
    cs = signed_cell.begin_parse()
    op = cs.load_uint(32)
    if op != V5_SIGNED_EXTERNAL_OP:
        raise WalletError(0xFFFF, f"unexpected v5 external op {op:#x}")
    wallet_id, valid_until, seqno = cs.load_uint(32), cs.load_uint(32), cs.load_uint(32)
    out_list = cs.load_maybe_ref()
    if cs.load_bit():
        raise WalletError(0xFFFF, "v5 extended actions are not supported by the stand-in")
    return SignedBody(
        signature, signed_cell.hash, wallet_id, valid_until, seqno, _v5_actions(out_list)
    )


def _v5_actions(out_list: Cell | None) -> list[tuple[int, Cell]]:
    actions: list[tuple[int, Cell]] = []
    while out_list is not None and (out_list.bits or out_list.refs):
        cs = out_list.begin_parse()
        previous = cs.load_ref()
        if cs.load_uint(32) != V5_SEND_MSG_ACTION:
            raise WalletError(0xFFFF, "only send_msg actions are supported by the stand-in")
        actions.append((cs.load_uint(8), cs.load_ref()))
        out_list = previous
    actions.reverse()
    return actions


#: The contracts' throw codes for the checks the chain repeats.
EXIT_CODES = {
    WalletVersion.V3R2: {"expired": 35, "seqno": 33, "wallet_id": 34, "signature": 35},
    WalletVersion.V4R2: {"expired": 36, "seqno": 33, "wallet_id": 34, "signature": 35},
    WalletVersion.V5R1: {"expired": 136, "seqno": 133, "wallet_id": 134, "signature": 135},
}


def verify_signed_body(
    version: WalletVersion, signed: SignedBody, data: WalletData, now: int
) -> None:
    """The checks the contract runs before ``accept_message()``; raises ``WalletError``."""
    codes = EXIT_CODES[version]
    if signed.valid_until <= now:
        raise WalletError(codes["expired"], "the message expired (valid_until is in the past)")
    if signed.seqno != data.seqno:
        raise WalletError(codes["seqno"], f"seqno {signed.seqno} does not match {data.seqno}")
    if signed.wallet_id != data.wallet_id:
        raise WalletError(codes["wallet_id"], "subwallet id does not match")
    try:
        VerifyKey(data.public_key).verify(signed.signed_hash, signed.signature)
    except Exception as exc:  # nacl's BadSignatureError or a malformed key
        raise WalletError(codes["signature"], "invalid signature") from exc
    if version is WalletVersion.V5R1 and any(mode & 2 == 0 for mode, _ in signed.actions):
        raise WalletError(137, "external send_msg actions must carry the ignore-errors mode")
