"""The platform wallet that pays creators: a v4R2 wallet whose key comes from the 24 words in
``TON_PLATFORM_MNEMONIC``, and the signed transfers it sends.

A v4R2 transfer is an external message whose body is::

    signature:bits512  wallet_id:uint32  valid_until:uint32  seqno:uint32  op:uint8 (0)
    (send_mode:uint8 ^MessageRelaxed)*

with the Ed25519 signature over the hash of everything after it. The contract accepts it only
while ``now < valid_until`` and only when ``seqno`` equals its own, then increments that seqno:
a signed transfer can be applied at most once, and re-sending the very same message is always
safe. :mod:`tenants.ton.payouts` builds on exactly that.

The keys never leave this object: its ``repr`` shows the address only, and nothing here logs.

Usage::

    wallet = PlatformWallet.from_settings(settings)          # None when no mnemonic is set
    signed = wallet.transfer(seqno=7, destination=address, amount=10**9,
                             comment="atl-payout-…", valid_until=int(time.time()) + 120)
    signed.boc_b64, signed.hash_hex, signed.normalized_hash_hex
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nacl.signing import SigningKey
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.crypto.keys import mnemonic_to_private_key
from pytoniq_core.tlb.account import StateInit

from core.settings import Settings, TonNetwork
from core.ton.address import TonAddress
from core.ton.messages import (
    boc_b64,
    comment_cell,
    external_message,
    internal_message_relaxed,
    normalized_hash,
)
from core.ton.wallets import (
    WalletVersion,
    default_wallet_id,
    state_init_address,
    wallet_state_init,
)

#: Pay the forwarding fees on top of the amount (+1) and skip an action that cannot be paid
#: instead of failing the whole transaction (+2) — what wallet apps send. A skipped payout
#: shows as a transaction *without* our outgoing message, which is how it is told apart.
SEND_MODE = 3


@dataclass(frozen=True, slots=True)
class SignedTransfer:
    """A signed external message and the hashes under which the chain will report it."""

    boc_b64: str
    hash_hex: str
    normalized_hash_hex: str
    seqno: int
    valid_until: int


@dataclass(frozen=True, slots=True)
class PlatformWallet:
    """The payout wallet: a v4R2 contract with the mnemonic's key."""

    signing_key: SigningKey = field(repr=False)
    network: TonNetwork
    workchain: int = 0
    version: WalletVersion = WalletVersion.V4R2

    @classmethod
    def from_mnemonic(cls, words: list[str], network: TonNetwork) -> PlatformWallet:
        _public, private = mnemonic_to_private_key(words)
        return cls(SigningKey(bytes(private[:32])), network)

    @classmethod
    def from_settings(cls, settings: Settings) -> PlatformWallet | None:
        """The wallet of ``TON_PLATFORM_MNEMONIC``, or ``None`` when payouts are not set up."""
        if settings.ton_platform_mnemonic is None:
            return None
        words = settings.ton_platform_mnemonic.get_secret_value().split()
        return cls.from_mnemonic(words, settings.ton_network)

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def wallet_id(self) -> int:
        return default_wallet_id(self.version, self.network, self.workchain)

    @property
    def state_init(self) -> StateInit:
        return wallet_state_init(
            self.version, self.public_key, network=self.network, workchain=self.workchain
        )

    @property
    def address(self) -> TonAddress:
        cell: Cell = self.state_init.serialize()
        return state_init_address(cell, self.workchain)

    def transfer(
        self,
        *,
        seqno: int,
        destination: TonAddress,
        amount: int,
        comment: str,
        valid_until: int,
        bounce: bool = False,
    ) -> SignedTransfer:
        """Sign one transfer of ``amount`` nanotons with ``comment``. Payouts go to wallets,
        non-bounceable, so an undeployed wallet still receives them. The stateInit rides along
        while the platform wallet is undeployed (``seqno`` 0)."""
        message = internal_message_relaxed(
            destination, amount, bounce=bounce, body=comment_cell(comment)
        )
        body = self._signed_body(seqno, valid_until, message)
        external = external_message(
            self.address, body, state_init=self.state_init if seqno == 0 else None
        )
        return SignedTransfer(
            boc_b64=boc_b64(external),
            hash_hex=bytes(external.hash).hex(),
            normalized_hash_hex=normalized_hash(external).hex(),
            seqno=seqno,
            valid_until=valid_until,
        )

    def _signed_body(self, seqno: int, valid_until: int, message: Cell) -> Cell:
        unsigned = Builder()
        unsigned.store_uint(self.wallet_id, 32).store_uint(valid_until, 32)
        unsigned.store_uint(seqno, 32).store_uint(0, 8)  # op 0: a simple send
        unsigned.store_uint(SEND_MODE, 8).store_ref(message)
        signed: Cell = unsigned.end_cell()
        signature = self.signing_key.sign(bytes(signed.hash)).signature
        body = Builder().store_bytes(signature).store_cell(signed)
        cell: Cell = body.end_cell()
        return cell
