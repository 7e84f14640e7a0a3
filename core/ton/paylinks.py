"""What a wallet is asked to send for an invoice: the TON Connect ``sendTransaction`` request
(Mini App) and the ``ton://transfer`` deep link (bot), plus the invoice comments both carry.

* :func:`new_invoice_comment` — ``atl-`` and 16 base32 characters (80 random bits), lower-case;
  :func:`normalize_comment` is how the watcher compares what arrives (trimmed, lower-cased), so
  a fan who types the comment by hand in another case still matches.
* :func:`ton_connect_request` — ``{"validUntil", "network", "messages": [{"address", "amount",
  "payload"}]}``: the merchant address user-friendly and **non-bounceable** (the TON Connect
  spec asks wallets to be paid in that form), the amount a string of nanotons, the payload the
  comment cell as a base64 BoC.
* :func:`transfer_link` — ``ton://transfer/<address>?amount=<nanotons>&text=<comment>``.

Usage::

    request = ton_connect_request(merchant, amount_nano, comment, valid_until, network)
    link = transfer_link(merchant, amount_nano, comment, network)
"""

from __future__ import annotations

import base64
import secrets
from typing import Any
from urllib.parse import quote

from core.settings import TonNetwork
from core.ton.address import TonAddress
from core.ton.messages import comment_payload

INVOICE_COMMENT_PREFIX = "atl-"
PAYOUT_COMMENT_PREFIX = "atl-payout-"
COMMENT_RANDOM_BYTES = 10  # 80 bits: 16 base32 characters


def _random_token() -> str:
    return base64.b32encode(secrets.token_bytes(COMMENT_RANDOM_BYTES)).decode().lower()


def new_invoice_comment() -> str:
    return INVOICE_COMMENT_PREFIX + _random_token()


def new_payout_comment() -> str:
    return PAYOUT_COMMENT_PREFIX + _random_token()


def normalize_comment(text: str | None) -> str | None:
    if text is None:
        return None
    value = text.strip().lower()
    return value or None


def ton_connect_request(
    merchant: TonAddress, amount: int, comment: str, valid_until: int, network: TonNetwork
) -> dict[str, Any]:
    """The object ``tonConnectUI.sendTransaction`` takes."""
    return {
        "validUntil": valid_until,
        "network": str(network.global_id),
        "messages": [
            {
                "address": merchant.wallet_form(network),
                "amount": str(amount),
                "payload": comment_payload(comment),
            }
        ],
    }


def transfer_link(merchant: TonAddress, amount: int, comment: str, network: TonNetwork) -> str:
    """A ``ton://transfer`` link any TON wallet opens with the amount and comment filled in."""
    address = merchant.wallet_form(network)
    return f"ton://transfer/{address}?amount={amount}&text={quote(comment, safe='')}"
