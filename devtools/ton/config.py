"""Settings of the TON stand-in (server-side knobs; all can change at runtime via ``/_ton``)."""

from __future__ import annotations

from dataclasses import dataclass

NANO = 1_000_000_000


@dataclass
class TonSettings:
    """How the stand-in behaves.

    ``block_interval`` 0 seals a masterchain block right after every message; ``finality_delay``
    is the time from sealing to final (0: final at once). toncenter v3 only lists transactions of
    final blocks; ``list_unfinalized`` also lists the others with ``mc_block_seqno: null`` (a
    harsher test for a watcher). ``api_key`` None accepts any caller; ``rate_limit_rps`` None
    never answers 429.
    """

    network: str = "mainnet"
    api_key: str | None = None
    rate_limit_rps: float | None = None
    rate_limit_burst: int = 10
    block_interval: float = 0.0
    finality_delay: float = 0.0
    list_unfinalized: bool = False
    bridge_heartbeat: float = 5.0
    bridge_max_ttl: int = 300
    manifest_timeout: float = 5.0
    faucet_balance: int = 1_000_000_000 * NANO
