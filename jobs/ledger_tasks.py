"""Ledger upkeep run by the worker.

``reconcile_ledger`` is the safety net behind the ledger's own invariants: the database
guarantees no negative balance, but only a recount shows an account whose stored balance has
drifted from the sum of its entries (a bug, or a hand edit). It changes nothing — a human
decides how to repair — it reports each mismatch as an ERROR log line with every figure, so an
alert on the log stream fires, and returns a summary that arq keeps as the job result.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.ledger import find_balance_mismatches
from jobs.wrapper import JobContext, task

logger = logging.getLogger(__name__)


@task
async def reconcile_ledger(
    ctx: JobContext, session: AsyncSession, tenant_id: int | None = None
) -> dict[str, Any]:
    """Compare every account (of ``tenant_id``, or of all tenants) with its entries."""
    mismatches = await find_balance_mismatches(session, tenant_id)
    for mismatch in mismatches:
        logger.error(
            "ledger mismatch on account %d of tenant %d: balance %d (entries say %d), "
            "reserved %d (entries say %d)",
            mismatch.account_id,
            mismatch.tenant_id,
            mismatch.balance,
            mismatch.entry_balance,
            mismatch.reserved,
            mismatch.entry_reserved,
            extra={"event": "ledger_mismatch", **asdict(mismatch)},
        )
    if not mismatches:
        logger.info("ledger reconciled: every account matches its entries")
    return {
        "tenant_id": tenant_id,
        "mismatches": len(mismatches),
        "accounts": [mismatch.account_id for mismatch in mismatches],
    }
