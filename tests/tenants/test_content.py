"""Content rules below the API: the safe HTML of posts, and ``grant_unlock`` — the interface
other areas (tasks) call — idempotent under concurrency and scoped to its tenant."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope, utcnow
from core.errors import NotFoundError, ValidationError
from core.models import Post, PostAccess, PostStatus, PostUnlock, Tenant, User
from tenants.content import repository as repo
from tenants.content.formatting import sanitize_html, visible_text
from tenants.content.service import grant_unlock

Factory = async_sessionmaker[AsyncSession]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("plain <3 & more", "plain &lt;3 &amp; more"),
        ("<b>bold <i>both</b> after", "<b>bold <i>both</i></b> after"),
        ("<em>x</em><strong>y</strong><del>z</del>", "<i>x</i><b>y</b><s>z</s>"),
        (
            '<span class="tg-spoiler">s</span><span style="x">t</span>',
            '<span class="tg-spoiler">s</span>t',
        ),
        (
            '<pre><code class="language-python">1 < 2</code></pre>',
            '<pre><code class="language-python">1 &lt; 2</code></pre>',
        ),
        ('<code class="x" onclick="y">c</code>', "<code>c</code>"),
        (
            '<a href="tg://user?id=1">u</a><a href=" https://e.x/?a=1&b=2 ">l</a>',
            '<a href="tg://user?id=1">u</a><a href="https://e.x/?a=1&amp;b=2">l</a>',
        ),
        ('<a href="data:text/html,x">d</a><a>no href</a>', "dno href"),
        ("<blockquote expandable>q</blockquote>", "<blockquote expandable>q</blockquote>"),
        ("<style>p{}</style><script>x()</script>kept", "kept"),
        ("a<br/>b<br>c</p>\n\n\n\nd", "a\nb\nc\n\nd"),
        ("</b>stray close<b>unclosed", "stray close<b>unclosed</b>"),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        ),
    ],
)
def test_sanitize_keeps_telegram_html_only(source: str, expected: str) -> None:
    assert sanitize_html(source) == expected
    assert sanitize_html(expected) == expected  # stable: sanitizing twice changes nothing


def test_visible_text_is_what_telegram_counts() -> None:
    assert visible_text('<b>a</b> &lt;<a href="https://x.y">link</a>') == "a <link"


async def _tenant_with_post(session: AsyncSession, name: str) -> tuple[int, int, int]:
    tenant = Tenant(name=name)
    session.add(tenant)
    await session.flush()
    user = User(tenant_id=tenant.id, telegram_id=42, first_name="Ada")
    post = Post(
        tenant_id=tenant.id,
        access=PostAccess.TASK,
        unlock_task_id=7,
        status=PostStatus.PUBLISHED,
        published_at=utcnow(),
        text="t",
    )
    session.add_all([user, post])
    await session.flush()
    return tenant.id, user.id, post.id


async def test_grant_unlock_is_idempotent_and_tenant_scoped(session_factory: Factory) -> None:
    async with session_scope(session_factory) as session:
        tenant_id, user_id, post_id = await _tenant_with_post(session, "one")
        other_tenant, other_user, other_post = await _tenant_with_post(session, "two")

    async def grant(**overrides: object) -> bool:
        values: dict[str, object] = {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "post_id": post_id,
            "source": "task",
            "source_ref": "task:7",
            **overrides,
        }
        async with session_scope(session_factory) as session:
            return await grant_unlock(session, **values)  # type: ignore[arg-type]

    results = await asyncio.gather(*(grant() for _ in range(20)))
    assert results.count(True) == 1
    assert await grant(source="gift", source_ref="admin") is False
    for bad in ({"post_id": other_post}, {"user_id": other_user}, {"post_id": 10**9}):
        with pytest.raises(NotFoundError):
            await grant(**bad)
    with pytest.raises(ValidationError):
        await grant(source="stolen")
    assert await grant(tenant_id=other_tenant, user_id=other_user, post_id=other_post)

    async with session_scope(session_factory) as session:
        assert await repo.revoke_unlock(session, tenant_id, post_id, user_id, "task:7", utcnow())
    assert await grant(source="ppv", source_ref="charge-2") is True  # granted again, once
    assert await grant(source="ppv", source_ref="charge-2") is False
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(PostUnlock.source, PostUnlock.source_ref, PostUnlock.revoked_at).where(
                    PostUnlock.tenant_id == tenant_id
                )
            )
        ).all()
        total = await session.scalar(select(func.count()).select_from(PostUnlock))
    assert [tuple(r) for r in rows] == [("ppv", "charge-2", None)]
    assert total == 2
