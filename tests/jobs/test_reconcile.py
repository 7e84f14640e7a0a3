"""``reconcile_ledger`` finds an account whose balance disagrees with its entries."""

from __future__ import annotations

import logging

import pytest
from arq.connections import ArqRedis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import ledger
from core.db import session_scope
from core.models import LedgerAccount, Tenant
from tests.jobs.conftest import RunWorker

Factory = async_sessionmaker[AsyncSession]


async def _funded_tenant(factory: Factory, name: str) -> tuple[int, int]:
    """(tenant_id, account_id) of a tenant account holding 100 credits, committed."""
    async with session_scope(factory) as session:
        tenant = Tenant(name=name)
        session.add(tenant)
        await session.flush()
        account = await ledger.get_or_create_account(session, tenant.id)
        await ledger.credit(session, tenant.id, account.id, 100, idempotency_key="seed")
        return tenant.id, account.id


async def test_reconcile_reports_a_corrupted_account(
    session_factory: Factory,
    arq_redis: ArqRedis,
    run_worker: RunWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, healthy = await _funded_tenant(session_factory, "healthy")
    tenant_id, corrupted = await _funded_tenant(session_factory, "corrupted")
    async with session_scope(session_factory) as session:
        await session.execute(
            update(LedgerAccount).where(LedgerAccount.id == corrupted).values(balance=105)
        )

    everyone = await arq_redis.enqueue_job("reconcile_ledger")
    other_tenant = await arq_redis.enqueue_job("reconcile_ledger", tenant_id=tenant_id + 1)
    assert everyone is not None and other_tenant is not None
    with caplog.at_level(logging.INFO, logger="jobs.ledger_tasks"):
        worker = await run_worker()

    assert worker.jobs_complete == 2
    assert await everyone.result(timeout=1) == {
        "tenant_id": None,
        "mismatches": 1,
        "accounts": [corrupted],
    }
    assert (await other_tenant.result(timeout=1))["mismatches"] == 0
    (report,) = [r for r in caplog.records if getattr(r, "event", None) == "ledger_mismatch"]
    assert report.levelno == logging.ERROR
    assert (report.account_id, report.tenant_id) == (corrupted, tenant_id)  # type: ignore[attr-defined]
    assert (report.balance, report.entry_balance) == (105, 100)  # type: ignore[attr-defined]
    assert healthy != corrupted
