"""Creator payouts against the TON stand-in: the platform wallet (a real v4R2 contract with the
mnemonic's key) signs, the stand-in's chain applies, and a payout is sent exactly once — also
when the worker dies between sending and confirming, when the API loses or fakes a failure of
the send, when two workers run at once, and when the signed message expired unsent."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import pytest
from arq.connections import ArqRedis
from pydantic import SecretStr
from pytoniq_core.crypto.keys import mnemonic_new
from sqlalchemy import select

from core.db import utcnow
from core.models import Tenant, TonInvoice, TonPayout, TonWallet, User
from core.queue import flush_deferred_jobs
from core.settings import Settings
from core.ton.address import parse_address
from core.ton.platform import PlatformWallet
from core.ton.toncenter import ToncenterClient
from devtools.ton import TonClient, WalletInfo
from jobs.ton.tasks import process_ton_payouts
from tenants.ton import payouts
from tests.jobs.ton.conftest import FAST_CLIENT, NANO, Chain, Factory
from tests.miniapp_api.auth.helpers import add_bot

OWNER = 7_700_001
WORDS = mnemonic_new(24)  # one mnemonic for the module: deriving keys is slow


@dataclass
class Creator:
    tenant_id: int
    user_id: int
    wallet: WalletInfo


@dataclass
class Platform:
    settings: Settings
    wallet: WalletInfo


@pytest.fixture
async def platform(chain: Chain, ton_settings: Settings) -> Platform:
    wallet = await chain.ton.create_wallet("v4r2", mnemonic=WORDS, balance=1000 * NANO)
    settings = ton_settings.model_copy(
        update={"ton_platform_mnemonic": SecretStr(" ".join(WORDS)), "ton_platform_fee_bps": 1000}
    )
    assert PlatformWallet.from_settings(settings).address == parse_address(wallet.address)  # type: ignore[union-attr]
    return Platform(settings, wallet)


@pytest.fixture
async def creator(chain: Chain, session_factory: Factory) -> Creator:
    """A tenant whose owner linked a (not yet deployed) wallet and earned 90 TON net."""
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    wallet = await chain.ton.create_wallet("v4r2", deployed=False)
    address = parse_address(wallet.address)
    async with session_factory() as session:
        owner = User(tenant_id=bot.tenant_id, telegram_id=OWNER, first_name="Owner")
        session.add(owner)
        await session.flush()
        session.add(
            TonWallet(
                tenant_id=bot.tenant_id,
                user_id=owner.id,
                address_raw=address.raw,
                address=wallet.non_bounceable,
                public_key=wallet.public_key,
                network="mainnet",
                wallet_version="v4r2",
            )
        )
        for n in range(4):  # four paid 25 TON invoices, 10% fee: 90 TON for the creator
            session.add(
                TonInvoice(
                    tenant_id=bot.tenant_id,
                    user_id=owner.id,
                    kind="credits",
                    item_id=1,
                    amount_due=25 * NANO,
                    comment=f"atl-seed{n}",
                    merchant=address.raw,
                    status="paid",
                    expires_at=utcnow(),
                    amount_received=25 * NANO,
                    creator_amount=25 * NANO * 9 // 10,
                    paid_tx_hash=f"{n:064x}",
                )
            )
        await session.commit()
        return Creator(bot.tenant_id, owner.id, wallet)


def _ctx(ctx: dict[str, Any], platform: Platform) -> dict[str, Any]:
    return ctx | {"settings": platform.settings}


async def request(
    factory: Factory,
    platform: Platform,
    creator: Creator,
    amount: int | None,
    redis: ArqRedis | None = None,
) -> TonPayout:
    """Request a payout as the API does (one unit of work; the job leaves after the commit)."""
    async with factory() as session:
        payout = await payouts.request_payout(
            session,
            platform.settings,
            tenant_id=creator.tenant_id,
            user_id=creator.user_id,
            telegram_id=OWNER,
            amount=amount,
        )
        await session.commit()
        if redis is not None:
            await flush_deferred_jobs(session, redis)
        return payout


async def received(ton: TonClient, creator: Creator) -> list[int]:
    """Amounts the creator's wallet received, read from the stand-in's toncenter API."""
    async with ToncenterClient(ton.api_base) as client:
        txs = await client.transactions(parse_address(creator.wallet.address), limit=100)
    return [tx.in_msg.value for tx in txs if tx.in_msg is not None and tx.in_msg.value]


async def payout_row(factory: Factory, payout_id: int) -> TonPayout:
    async with factory() as session:
        found = await session.get(TonPayout, payout_id)
        assert found is not None
        return found


def runner(
    ctx: dict[str, Any], platform: Platform, client: ToncenterClient, **kw: Any
) -> payouts.Payouts:
    wallet = PlatformWallet.from_settings(platform.settings)
    assert wallet is not None
    return payouts.Payouts(ctx["session_factory"], ctx["redis"], client, wallet, **kw)


async def test_a_payout_is_signed_sent_and_confirmed_from_the_chain(
    chain: Chain,
    ctx: dict[str, Any],
    platform: Platform,
    creator: Creator,
    session_factory: Factory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with session_factory() as session:
        before = await payouts.earnings(session, creator.tenant_id)
    assert (before.gross, before.fees, before.net, before.available) == (
        100 * NANO,
        10 * NANO,
        90 * NANO,
        90 * NANO,
    )
    payout = await request(session_factory, platform, creator, 30 * NANO, ctx["redis"])
    queued = [job.function for job in await ctx["redis"].queued_jobs()]
    assert queued == ["process_ton_payouts"]

    summary = await process_ton_payouts(_ctx(ctx, platform))
    assert summary["confirmed"] == 1 and summary["sends"] == 1
    done = await payout_row(session_factory, payout.id)
    assert done.status == "confirmed" and done.tx_hash and done.seqno == 0
    assert await received(chain.ton, creator) == [30 * NANO]
    account = await chain.ton.account(platform.wallet.address)
    assert account.seqno == 1
    async with session_factory() as session:
        after = await payouts.earnings(session, creator.tenant_id)
    assert (after.paid_out, after.in_flight, after.available) == (30 * NANO, 0, 60 * NANO)

    again = await process_ton_payouts(_ctx(ctx, platform))
    assert again["signed"] == 0 and again["sends"] == 0
    assert await received(chain.ton, creator) == [30 * NANO]
    # The mnemonic (and the key it makes) never reach a log line.
    assert " ".join(WORDS[:3]) not in caplog.text
    wallet = PlatformWallet.from_settings(platform.settings)
    assert wallet is not None and bytes(wallet.signing_key).hex() not in caplog.text
    assert "ton payout confirmed" in caplog.text


async def test_a_worker_that_dies_after_sending_never_sends_again(
    chain: Chain,
    ctx: dict[str, Any],
    platform: Platform,
    creator: Creator,
    session_factory: Factory,
) -> None:
    payout = await request(session_factory, platform, creator, 20 * NANO)
    async with ToncenterClient(chain.base_url, **FAST_CLIENT) as client:
        doomed = runner(ctx, platform, client)
        assert await payouts.sign_next(doomed) == payout.id
        assert await payouts.broadcast(doomed, payout.id)
        # ... and the worker dies here: the payout is signed, sent, not confirmed.
    assert (await payout_row(session_factory, payout.id)).status == "signed"

    summary = await process_ton_payouts(_ctx(ctx, platform))
    assert summary["confirmed"] == 1 and summary["sends"] == 0 and summary["signed"] == 0
    assert await received(chain.ton, creator) == [20 * NANO]
    assert (await chain.ton.account(platform.wallet.address)).seqno == 1


@pytest.mark.parametrize("fault", ["apply_then_fail", "lose", "reject"])
async def test_a_send_the_api_fumbles_still_pays_once(
    chain: Chain,
    ctx: dict[str, Any],
    platform: Platform,
    creator: Creator,
    session_factory: Factory,
    fault: str,
) -> None:
    """``apply_then_fail``: applied but answered 504; ``lose``: answered OK, never applied;
    ``reject``: refused with a 500. Each run looks at the chain before sending anything."""
    payout = await request(session_factory, platform, creator, 10 * NANO)
    await chain.ton.inject_fault(fault)
    first = await process_ton_payouts(_ctx(ctx, platform))
    second = await process_ton_payouts(_ctx(ctx, platform))
    assert first["confirmed"] + second["confirmed"] == 1
    done = await payout_row(session_factory, payout.id)
    assert done.status == "confirmed"
    assert await received(chain.ton, creator) == [10 * NANO]
    assert (await chain.ton.account(platform.wallet.address)).seqno == 1
    if fault == "apply_then_fail":
        assert first["confirmed"] == 1 and done.sends == 1  # the chain had it: no re-send
    else:
        assert done.sends == 2  # the same signed message, sent again


async def test_two_workers_at_once_send_each_payout_once(
    chain: Chain,
    ctx: dict[str, Any],
    platform: Platform,
    creator: Creator,
    session_factory: Factory,
) -> None:
    first = await request(session_factory, platform, creator, 5 * NANO)
    second = await request(session_factory, platform, creator, 7 * NANO)
    runs = await asyncio.gather(*(process_ton_payouts(_ctx(ctx, platform)) for _ in range(3)))
    assert sum(run.get("confirmed", 0) for run in runs) == 2
    assert sum(bool(run.get("locked_out")) for run in runs) >= 1
    assert sorted(await received(chain.ton, creator)) == [5 * NANO, 7 * NANO]
    rows = [await payout_row(session_factory, p.id) for p in (first, second)]
    assert [(row.status, row.seqno) for row in rows] == [("confirmed", 0), ("confirmed", 1)]


async def test_an_unsent_expired_payout_is_signed_again_with_its_seqno(
    chain: Chain,
    ctx: dict[str, Any],
    platform: Platform,
    creator: Creator,
    session_factory: Factory,
) -> None:
    payout = await request(session_factory, platform, creator, 4 * NANO)
    async with ToncenterClient(chain.base_url, **FAST_CLIENT) as client:
        assert await payouts.sign_next(runner(ctx, platform, client)) == payout.id
        old = await payout_row(session_factory, payout.id)
        # Much later (the worker was down past valid_until): the message was never sent.
        later = runner(ctx, platform, client, clock=lambda: time.time() + 3 * 3600)
        state = await payouts.settle(later, payout.id)
        assert state is payouts.Settled.WAITING
        resigned = await payout_row(session_factory, payout.id)
        assert resigned.message_hash != old.message_hash and resigned.seqno == old.seqno
        assert await payouts.settle(later, payout.id) is payouts.Settled.CONFIRMED
    assert await received(chain.ton, creator) == [4 * NANO]


async def test_a_seqno_taken_by_someone_else_goes_to_review_not_to_a_second_send(
    chain: Chain,
    ctx: dict[str, Any],
    platform: Platform,
    creator: Creator,
    session_factory: Factory,
) -> None:
    payout = await request(session_factory, platform, creator, 3 * NANO)
    async with ToncenterClient(chain.base_url, **FAST_CLIENT) as client:
        assert await payouts.sign_next(runner(ctx, platform, client)) == payout.id
        # An operator sends from the platform wallet by hand: seqno 0 is used up.
        other = await chain.ton.create_wallet("v4r2")
        await chain.ton.transfer(platform.wallet, other.non_bounceable, NANO)
        assert (
            await payouts.settle(runner(ctx, platform, client), payout.id)
            is payouts.Settled.WAITING
        )
        later = runner(ctx, platform, client, clock=lambda: time.time() + 3600)
        assert await payouts.settle(later, payout.id) is payouts.Settled.REVIEW
    held = await payout_row(session_factory, payout.id)
    assert held.status == "review" and held.failure
    assert await received(chain.ton, creator) == []
    async with session_factory() as session:
        found = await payouts.earnings(session, creator.tenant_id)
    assert found.in_flight == 3 * NANO  # held until a human decides


async def test_a_payout_the_wallet_cannot_fund_fails_and_is_released(
    chain: Chain,
    ctx: dict[str, Any],
    platform: Platform,
    creator: Creator,
    session_factory: Factory,
) -> None:
    poor = await chain.ton.create_wallet("v4r2", mnemonic=WORDS)  # same wallet: drain it
    drain = await chain.ton.create_wallet("v4r2")
    await chain.ton.transfer(poor, drain.non_bounceable, 0, send_mode=128)
    payout = await request(session_factory, platform, creator, 50 * NANO)
    await chain.ton.fund(platform.wallet.address, NANO // 10)  # gas money, not 50 TON

    summary = await process_ton_payouts(_ctx(ctx, platform))
    assert summary["failed"] == 1
    failed = await payout_row(session_factory, payout.id)
    assert failed.status == "failed" and failed.tx_hash
    assert await received(chain.ton, creator) == []
    async with session_factory() as session:
        found = await payouts.earnings(session, creator.tenant_id)
    assert found.available == 90 * NANO


async def test_payout_limits(
    ctx: dict[str, Any], platform: Platform, creator: Creator, session_factory: Factory
) -> None:
    settings = platform.settings.model_copy(
        update={"ton_payout_min": "2", "ton_payout_daily_cap": "50"}
    )
    capped = Platform(settings, platform.wallet)
    with pytest.raises(payouts.PayoutTooSmallError):
        await request(session_factory, capped, creator, NANO)
    with pytest.raises(payouts.PayoutExceedsEarningsError):
        await request(session_factory, capped, creator, 91 * NANO)
    await request(session_factory, capped, creator, 40 * NANO)
    with pytest.raises(payouts.DailyCapError):
        await request(session_factory, capped, creator, 11 * NANO)
    everything = await request(session_factory, capped, creator, 10 * NANO)
    assert everything.amount == 10 * NANO
    async with session_factory() as session:
        tenant = await session.get(Tenant, creator.tenant_id)
        assert tenant is not None
        rows = (await session.execute(select(TonPayout))).scalars().all()
    assert [row.status for row in rows] == ["requested", "requested"]
    no_keys = Platform(settings.model_copy(update={"ton_platform_mnemonic": None}), platform.wallet)
    with pytest.raises(payouts.PayoutsUnavailableError):
        await request(session_factory, no_keys, creator, None)
