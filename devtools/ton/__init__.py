"""A toncenter-compatible TON stand-in with a TON Connect bridge and a test wallet.

Entry points: ``create_app`` (the ASGI app), ``TonClient`` (the control API from Python),
``running_ton`` (tests), ``TestWallet`` (keys, addresses, signed transfers), ``proof`` helpers
(``backend_payload``, ``sign_proof``) for ton_proof tests. See ``devtools/ton/README.md``.
"""

from devtools.ton.app import create_app, pytonconnect_wallet
from devtools.ton.cells import comment_boc_b64, comment_body, decode_comment, parse_address
from devtools.ton.client import (
    AccountInfo,
    ConnectResult,
    PendingTransaction,
    SeedResult,
    SendResult,
    TonClient,
    TonError,
    WalletInfo,
)
from devtools.ton.config import NANO, TonSettings
from devtools.ton.proof import backend_payload, proof_message, sign_proof, signed_digest
from devtools.ton.testing import running_ton
from devtools.ton.wallets import TestWallet, Transfer, WalletVersion

__all__ = [
    "NANO",
    "AccountInfo",
    "ConnectResult",
    "PendingTransaction",
    "SeedResult",
    "SendResult",
    "TestWallet",
    "TonClient",
    "TonError",
    "TonSettings",
    "Transfer",
    "WalletInfo",
    "WalletVersion",
    "backend_payload",
    "comment_boc_b64",
    "comment_body",
    "create_app",
    "decode_comment",
    "parse_address",
    "proof_message",
    "pytonconnect_wallet",
    "running_ton",
    "sign_proof",
    "signed_digest",
]
