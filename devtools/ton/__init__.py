"""A toncenter-compatible TON stand-in (work in progress: wallets, cells and the chain so far)."""

from devtools.ton.cells import comment_boc_b64, comment_body, decode_comment, parse_address
from devtools.ton.config import NANO, TonSettings
from devtools.ton.wallets import TestWallet, Transfer, WalletVersion

__all__ = [
    "NANO",
    "TestWallet",
    "TonSettings",
    "Transfer",
    "WalletVersion",
    "comment_boc_b64",
    "comment_body",
    "decode_comment",
    "parse_address",
]
