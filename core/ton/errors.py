"""Typed errors of TON wallet linking, each with its own stable code.

Every way a ``ton_proof`` can fail has a code of its own, so the Mini App (and the bot, later)
can tell a fan what to do — "your phone's clock is wrong" is not "connect the wallet again" —
and tests can assert *why* a proof was refused, not merely that it was. All are 400s: the
client sent something we cannot accept; none reveals more than the client already knows.
"""

from __future__ import annotations

from core.errors import AtelierError, ConflictError


class InvalidAddressError(AtelierError):
    """Not a TON address (raw ``wc:hex`` or a 48-character user-friendly form)."""

    code = "ton_invalid_address"


class TonProofError(AtelierError):
    """Base of every refused ``ton_proof``."""

    code = "ton_proof_invalid"


class MalformedProofError(TonProofError):
    """A field does not decode (base64, hex, BoC) or has the wrong size."""

    code = "ton_proof_malformed"


class WrongNetworkError(TonProofError):
    code = "ton_proof_wrong_network"


class WrongDomainError(TonProofError):
    code = "ton_proof_wrong_domain"


class ProofExpiredError(TonProofError):
    code = "ton_proof_expired"


class ProofFromFutureError(TonProofError):
    code = "ton_proof_future_timestamp"


class UnknownPayloadError(TonProofError):
    """The payload was never issued, already used, expired, or issued to someone else."""

    code = "ton_proof_unknown_payload"


class StateInitMismatchError(TonProofError):
    """The stateInit does not hash to the claimed address."""

    code = "ton_proof_state_init_mismatch"


class PublicKeyMismatchError(TonProofError):
    """The key the wallet claims is not the key its contract holds."""

    code = "ton_proof_public_key_mismatch"


class UnknownWalletError(TonProofError):
    """Neither a known wallet code in the stateInit nor ``get_public_key`` gave a key."""

    code = "ton_proof_unknown_wallet"


class BadSignatureError(TonProofError):
    code = "ton_proof_bad_signature"


class WalletTakenError(ConflictError):
    """Another fan of the same tenant has already linked this wallet."""

    code = "ton_wallet_taken"
