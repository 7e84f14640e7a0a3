"""Premium content on SQLite (``atelier dev``): posts, the keyset feed, unlocks, views, a PPV
and a VIP charge recorded once, stats, and the VIP sweep — the same SQL as on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import models as _models  # noqa: F401 - registers every table on Base.metadata
from core.db import create_session_factory, session_scope, utcnow
from core.models import File, PostAccess, Tenant, User, VipStatus
from core.models.payments import OrderKind
from tenants import payments
from tenants.content import service as content
from tenants.content.service import PostDraft, Viewer
from tenants.vip import service as vip
from tenants.vip.service import PackageDraft

Factory = async_sessionmaker[AsyncSession]


async def _charge(
    factory: Factory, tenant_id: int, order_id: int, charge_id: str
) -> payments.ChargeOutcome:
    async with session_scope(factory) as s:
        order = await s.get(payments.Order, order_id)
        assert order is not None
        return await payments.record_charge(
            s,
            tenant_id,
            charge_id=charge_id,
            payload=payments.payload_of(order),
            currency="XTR",
            stars=order.stars,
            telegram_user_id=order.telegram_user_id,
            is_recurring=order.kind == OrderKind.VIP,
        )


async def test_content_and_vip_on_sqlite(sqlite_engine: AsyncEngine) -> None:
    factory = create_session_factory(sqlite_engine)
    async with session_scope(factory) as s:
        tenant = Tenant(name="dev", owner_telegram_id=1)
        s.add(tenant)
        await s.flush()
        owner = User(tenant_id=tenant.id, telegram_id=1)
        fan = User(tenant_id=tenant.id, telegram_id=2)
        s.add_all([owner, fan])
        await s.flush()
        picture = File(
            tenant_id=tenant.id,
            user_id=owner.id,
            name="p.png",
            storage_key="drive/p",
            mime_type="image/png",
            size=3,
            sha256="0" * 64,
        )
        s.add(picture)
        await s.flush()
        gold = await vip.create_package(s, tenant.id, PackageDraft(name="Gold", price_stars=7))
        posts = []
        for n, access in enumerate((PostAccess.FREE, PostAccess.PPV, PostAccess.VIP)):
            draft = PostDraft(
                text=f"<b>{n}</b>",
                access=access,
                price_stars=5 if access == PostAccess.PPV else None,
                package_ids=[gold.id] if access == PostAccess.VIP else [],
                file_ids=[picture.id],
            )
            posts.append(
                await content.create_post(
                    s,
                    tenant.id,
                    author_id=owner.id,
                    draft=draft,
                    publish_now=True,
                    now=utcnow() - timedelta(minutes=10 - n),
                )
            )
        free, ppv, vip_post = posts
        await content.set_pinned(s, tenant.id, free.id, True)
    tenant_id, fan_id = tenant.id, fan.id

    async with session_scope(factory) as s:
        first = await content.feed(s, tenant_id, Viewer(fan_id), limit=2)
        rest = await content.feed(s, tenant_id, Viewer(fan_id), cursor=first.next_cursor, limit=2)
        order = [i.post.id for i in first.items + rest.items]
        assert order == [free.id, vip_post.id, ppv.id]
        assert [i.locked for i in first.items + rest.items] == [False, True, True]
        assert await content.record_view(s, tenant_id, fan_id, ppv.id)
        assert not await content.record_view(s, tenant_id, fan_id, ppv.id)
        ppv_order, _ = await content.create_ppv_order(
            s, tenant_id, user_id=fan_id, telegram_user_id=2, post_id=ppv.id
        )
        vip_order, _ = await vip.create_vip_order(
            s, tenant_id, user_id=fan_id, telegram_user_id=2, package_id=gold.id
        )
    for _ in range(2):  # the second time is a duplicate: nothing more happens
        await _charge(factory, tenant_id, ppv_order.id, "c-ppv")
        await _charge(factory, tenant_id, vip_order.id, "c-vip")

    async with session_scope(factory) as s:
        items = (await content.feed(s, tenant_id, Viewer(fan_id))).items
        assert [(i.post.id, i.via) for i in items] == [
            (free.id, "free"),
            (vip_post.id, "vip"),
            (ppv.id, "unlock"),
        ]
        stats = await content.post_stats(s, tenant_id, ppv.id)
        assert (stats.views, stats.unlocks, stats.revenue_stars) == (1, {"ppv": 1}, 5)
        notices = await vip.run_vip_expiry(s, utcnow() + timedelta(days=31, hours=2))
        assert [n.kind for n in notices] == ["expired"]
    async with session_scope(factory) as s:
        subs = await vip.fan_packages(s, tenant_id, fan_id)
        assert subs[0].subscription is not None
        assert subs[0].subscription.status == VipStatus.EXPIRED
        item = await content.feed_item(s, tenant_id, Viewer(fan_id), vip_post.id)
        assert item.locked
