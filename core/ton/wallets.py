"""The wallet contracts we recognise — v3R2, v4R2, v5R1 — and where each keeps its public key.

A wallet is identified by the hash of its code; the code hashes below are the ones the TON
documentation lists for the standard wallet contracts, and :func:`wallet_code` refuses to hand
out a code cell whose hash differs. Each version lays out its persistent data differently
(TL-B as in pytoniq-core's ``WalletV3Data``/``WalletV4Data``/``WalletV5R1Data`` and the TON
docs):

* v3R2: ``seqno:uint32 wallet_id:uint32 public_key:bits256``
* v4R2: ``seqno:uint32 wallet_id:uint32 public_key:bits256 plugins:(Maybe ^Cell)``
* v5R1: ``is_signature_allowed:(## 1) seqno:uint32 wallet_id:int32 public_key:bits256
  extensions:(HashmapE 256 int1)``

Wallet apps often deploy v5R1 with its code as a *library cell* (an exotic cell that holds only
the code's hash); :func:`code_hash` reads through it, so such a wallet is still recognised.

Building wallets (tests, the devtools chain, the platform wallet of payouts)::

    state_init = wallet_state_init(WalletVersion.V4R2, public_key, network=TonNetwork.MAINNET)
    address = state_init_address(state_init.serialize(), workchain=0)

Reading them (``ton_proof``)::

    version = identify_wallet(code)                 # None for any other contract
    public_key = public_key_of(version, data)
"""

from __future__ import annotations

import base64
from enum import StrEnum
from functools import cache

from pytoniq_core.boc.cell import Cell
from pytoniq_core.boc.exotic import CellTypes
from pytoniq_core.boc.slice import Slice
from pytoniq_core.tlb.account import StateInit
from pytoniq_core.tlb.custom.wallet import WalletV3Data, WalletV4Data, WalletV5R1Data

from core.settings import TonNetwork
from core.ton.address import TonAddress


class WalletVersion(StrEnum):
    V3R2 = "v3r2"
    V4R2 = "v4r2"
    V5R1 = "v5r1"


#: Code hashes of the standard wallet contracts (docs.ton.org, "Wallet sources").
CODE_HASHES: dict[WalletVersion, bytes] = {
    WalletVersion.V3R2: bytes.fromhex(
        "84dafa449f98a6987789ba232358072bc0f76dc4524002a5d0918b9a75d2d599"
    ),
    WalletVersion.V4R2: bytes.fromhex(
        "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0"
    ),
    WalletVersion.V5R1: bytes.fromhex(
        "20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f"
    ),
}
_VERSION_BY_HASH = {code_hash: version for version, code_hash in CODE_HASHES.items()}

#: The default ``wallet_id`` of v3/v4 wallets is this plus the workchain.
V3_V4_BASE_WALLET_ID = 698_983_191

_V3R2_CODE = (
    "te6ccgEBAQEAcQAA3v8AIN0gggFMl7ohggEznLqxn3Gw7UTQ0x/THzHXC//jBOCk8mCDCNcYINMf0x/TH/gjE7vy"
    "Y+1E0NMf0x/T/9FRMrryoVFEuvKiBPkBVBBV+RDyo/gAkyDXSpbTB9QC+wDo0QGkyMsfyx/L/8ntVA=="
)

_V4R2_CODE = (
    "te6ccgECFAEAAtQAART/APSkE/S88sgLAQIBIAIPAgFIAwYC5tAB0NMDIXGwkl8E4CLXScEgkl8E4ALTHyGCEHBs"
    "dWe9IoIQZHN0cr2wkl8F4AP6QDAg+kQByMoHy//J0O1E0IEBQNch9AQwXIEBCPQKb6Exs5JfB+AF0z/IJYIQcGx1"
    "Z7qSODDjDQOCEGRzdHK6kl8G4w0EBQB4AfoA9AQw+CdvIjBQCqEhvvLgUIIQcGx1Z4MesXCAGFAEywUmzxZY+gIZ"
    "9ADLaRfLH1Jgyz8gyYBA+wAGAIpQBIEBCPRZMO1E0IEBQNcgyAHPFvQAye1UAXKwjiOCEGRzdHKDHrFwgBhQBcsF"
    "UAPPFiP6AhPLassfyz/JgED7AJJfA+ICASAHDgIBIAgNAgFYCQoAPbKd+1E0IEBQNch9AQwAsjKB8v/ydABgQEI9"
    "ApvoTGACASALDAAZrc52omhAIGuQ64X/wAAZrx32omhAEGuQ64WPwAARuMl+1E0NcLH4AFm9JCtvaiaECAoGuQ+g"
    "IYRw1AgIR6STfSmRDOaQPp/5g3gSgBt4EBSJhxWfMYQE+PKDCNcYINMf0x/THwL4I7vyZO1E0NMf0x/T//QE0VFD"
    "uvKhUVG68qIF+QFUEGT5EPKj+AAkpMjLH1JAyx9SMMv/UhD0AMntVPgPAdMHIcAAn2xRkyDXSpbTB9QC+wDoMOAh"
    "wAHjACHAAuMAAcADkTDjDQOkyMsfEssfy/8QERITAG7SB/oA1NQi+QAFyMoHFcv/ydB3dIAYyMsFywIizxZQBfoC"
    "FMtrEszMyXP7AMhAFIEBCPRR8qcCAHCBAQjXGPoA0z/IVCBHgQEI9FHyp4IQbm90ZXB0gBjIywXLAlAGzxZQBPoC"
    "FMtqEssfyz/Jc/sAAgBsgQEI1xj6ANM/MFIkgQEI9Fnyp4IQZHN0cnB0gBjIywXLAlAFzxZQA/oCE8tqyx8Syz/J"
    "c/sAAAr0AMntVA=="
)

_V5R1_CODE = (
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
)
_CODES = {
    WalletVersion.V3R2: _V3R2_CODE,
    WalletVersion.V4R2: _V4R2_CODE,
    WalletVersion.V5R1: _V5R1_CODE,
}


def begin_parse(cell: Cell) -> Slice:
    """``cell.begin_parse()``, typed (pytoniq-core's is not)."""
    parsed: Slice = cell.begin_parse()
    return parsed


@cache
def wallet_code(version: WalletVersion) -> Cell:
    """The code cell of ``version``, checked against its published hash."""
    cell = Cell.one_from_boc(base64.b64decode(_CODES[version]))
    if cell.hash != CODE_HASHES[version]:
        raise RuntimeError(f"the bundled {version} code does not hash to its published hash")
    return cell


def code_hash(code: Cell) -> bytes:
    """The hash of the code a contract runs: a library cell names it, any other cell is it."""
    if code.type_ == CellTypes.library_ref:
        return bytes(code.get_data_bytes()[1:33])
    return bytes(code.hash)


def identify_wallet(code: Cell) -> WalletVersion | None:
    return _VERSION_BY_HASH.get(code_hash(code))


def public_key_of(version: WalletVersion, data: Cell) -> bytes:
    """The Ed25519 public key in a wallet's data cell; ``ValueError`` if the cell is short."""
    try:
        if version is WalletVersion.V3R2:
            key = WalletV3Data.deserialize(begin_parse(data)).public_key
        elif version is WalletVersion.V4R2:
            key = WalletV4Data.deserialize(begin_parse(data)).public_key
        else:
            key = WalletV5R1Data.deserialize(begin_parse(data)).public_key
    except Exception as exc:  # pytoniq raises assorted errors on short or odd cells
        raise ValueError(f"not a {version} data cell") from exc
    return bytes(key)


def default_wallet_id(
    version: WalletVersion, network: TonNetwork, workchain: int = 0, subwallet: int = 0
) -> int:
    """The ``wallet_id`` wallet apps use, as an unsigned 32-bit number.

    v3/v4: ``698983191 + workchain`` (+ subwallet). v5R1: ``network_global_id XOR context``
    where the client context is ``1 | workchain:int8 | version:uint8 (0) | subwallet:uint15``
    — which is why one key has different v5 addresses on mainnet and testnet.
    """
    if version is not WalletVersion.V5R1:
        return (V3_V4_BASE_WALLET_ID + workchain + subwallet) & 0xFFFFFFFF
    context = (1 << 31) | ((workchain & 0xFF) << 23) | (subwallet & 0x7FFF)
    return (network.global_id ^ context) & 0xFFFFFFFF


def wallet_data(version: WalletVersion, public_key: bytes, wallet_id: int) -> Cell:
    """The data cell of a freshly deployed wallet (seqno 0, no plugins or extensions)."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    if version is WalletVersion.V3R2:
        return WalletV3Data(seqno=0, wallet_id=wallet_id, public_key=public_key).serialize()
    if version is WalletVersion.V4R2:
        return WalletV4Data(seqno=0, wallet_id=wallet_id, public_key=public_key).serialize()
    return WalletV5R1Data(seqno=0, wallet_id=wallet_id, public_key=public_key).serialize()


def wallet_state_init(
    version: WalletVersion,
    public_key: bytes,
    *,
    network: TonNetwork,
    workchain: int = 0,
    wallet_id: int | None = None,
) -> StateInit:
    """The stateInit a wallet app would deploy for ``public_key``."""
    if wallet_id is None:
        wallet_id = default_wallet_id(version, network, workchain)
    return StateInit(code=wallet_code(version), data=wallet_data(version, public_key, wallet_id))


def state_init_address(state_init: Cell, workchain: int = 0) -> TonAddress:
    """A contract's address is its workchain and the hash of its stateInit cell."""
    return TonAddress(workchain, bytes(state_init.hash))
