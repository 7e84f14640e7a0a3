"""Premium content: posts with media from the creator's drive, who may see them, and VIP.

What the database itself guarantees:

- a fan's view of a post is counted once: UNIQUE ``post_views (post_id, user_id)``;
- an unlock is one row per fan and post: UNIQUE ``post_unlocks (post_id, user_id)``, so a
  duplicated payment update, a task checked twice or two racing grants unlock once; a refund
  marks the row ``revoked_at`` instead of deleting it (the record stays);
- a pay-per-view post always has a price: CHECK ``access <> 'ppv' OR price_stars`` 1..10,000;
- a fan has one subscription row per VIP package: UNIQUE ``(tenant_id, user_id, package_id)``,
  extended by each charge (charges themselves are UNIQUE in ``payments``);
- a drive file is attached to a post once: UNIQUE ``post_media (post_id, file_id)``.

``unlock_task_id`` is a plain nullable bigint: the tasks area adds its table (and may add the
foreign key) later.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import SERVER_NOW, Base, BigIntId, TenantOwned, TimestampMixin, utcnow


class PostAccess(StrEnum):
    FREE = "free"
    VIP = "vip"  # active subscribers of one of the post's packages
    PPV = "ppv"  # pay per view: ``price_stars``
    TASK = "task"  # complete ``unlock_task_id``


class PostStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # visible from ``published_at`` (= ``publish_at``) on
    PUBLISHED = "published"


class UnlockSource(StrEnum):
    PPV = "ppv"
    VIP = "vip"
    TASK = "task"
    GIFT = "gift"


class MediaKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


class VipStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"  # renewal stopped; access lasts until ``period_end``
    EXPIRED = "expired"


class Post(TenantOwned, TimestampMixin, Base):
    """One post of a creator. ``text`` is sanitized Telegram HTML (see
    :mod:`tenants.content.formatting`); ``teaser`` is plain text shown even while locked."""

    __tablename__ = "posts"
    tenant_id_indexed = False  # the feed index leads with it
    __table_args__ = (
        CheckConstraint("access IN ('free', 'vip', 'ppv', 'task')", name="access_known"),
        CheckConstraint("status IN ('draft', 'scheduled', 'published')", name="status_known"),
        CheckConstraint(
            "access <> 'ppv' OR (price_stars IS NOT NULL AND price_stars BETWEEN 1 AND 10000)",
            name="ppv_has_price",
        ),
        Index("ix_posts_tenant_feed", "tenant_id", "pinned", "published_at", "id"),
        Index("ix_posts_status_publish_at", "status", "publish_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    author_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text, default="")
    teaser: Mapped[str] = mapped_column(String(280), default="")
    access: Mapped[PostAccess] = mapped_column(String(8), default=PostAccess.FREE)
    price_stars: Mapped[int | None] = mapped_column(Integer)
    unlock_task_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[PostStatus] = mapped_column(String(16), default=PostStatus.DRAFT)
    publish_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # The blurred preview of a locked post: its own object, safe to serve to anyone.
    preview_key: Mapped[str | None] = mapped_column(String(1024))
    preview_source: Mapped[str | None] = mapped_column(String(64))  # what it was made from
    updated_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)
    deleted_at: Mapped[datetime | None]


class PostMedia(TenantOwned, Base):
    """A drive file shown in a post, in ``position`` order."""

    __tablename__ = "post_media"
    tenant_id_indexed = False
    __table_args__ = (
        UniqueConstraint("post_id", "file_id"),
        Index("ix_post_media_tenant_id_post_id", "tenant_id", "post_id", "position"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("posts.id", ondelete="CASCADE"))
    file_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("files.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[MediaKind] = mapped_column(String(16))


class PostView(TenantOwned, TimestampMixin, Base):
    __tablename__ = "post_views"
    tenant_id_indexed = False
    __table_args__ = (
        UniqueConstraint("post_id", "user_id"),
        Index("ix_post_views_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))


class PostUnlock(TenantOwned, TimestampMixin, Base):
    """A fan's permanent access to one post. ``source_ref`` says which payment (charge id),
    task or gift granted it; ``revoked_at`` is set when that payment was refunded."""

    __tablename__ = "post_unlocks"
    tenant_id_indexed = False
    __table_args__ = (
        UniqueConstraint("post_id", "user_id"),
        CheckConstraint("source IN ('ppv', 'vip', 'task', 'gift')", name="source_known"),
        Index("ix_post_unlocks_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[UnlockSource] = mapped_column(String(8))
    source_ref: Mapped[str] = mapped_column(String(256), default="")
    revoked_at: Mapped[datetime | None]


class TelegramFileId(TenantOwned, Base):
    """Telegram's ``file_id`` of a storage object once one bot has uploaded it: later sends
    by the same bot reuse it instead of uploading again (file ids are per bot)."""

    __tablename__ = "content_telegram_files"
    __table_args__ = (UniqueConstraint("telegram_bot_id", "storage_key"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    telegram_bot_id: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(1024))
    file_id: Mapped[str] = mapped_column(String(256))


class VipPackage(TenantOwned, TimestampMixin, Base):
    """A VIP tier fans subscribe to for ``price_stars`` per 30 days; ``channel_chat_id`` is an
    optional private channel or group whose invite link a subscriber gets."""

    __tablename__ = "vip_packages"
    __table_args__ = (CheckConstraint("price_stars BETWEEN 1 AND 10000", name="price_in_range"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    perks: Mapped[list[str]] = mapped_column(JSON, default=list)
    price_stars: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    channel_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)


class PostPackage(TenantOwned, Base):
    """Which VIP packages open a VIP post (any one of them does)."""

    __tablename__ = "post_vip_packages"
    tenant_id_indexed = False
    __table_args__ = (UniqueConstraint("post_id", "package_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("posts.id", ondelete="CASCADE"))
    package_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("vip_packages.id", ondelete="CASCADE"), index=True
    )


class VipSubscription(TenantOwned, TimestampMixin, Base):
    """A fan's subscription to one package. ``subscription_charge_id`` is the first charge of
    the Telegram subscription (what ``editUserStarSubscription`` names); ``last_charge_id``
    the latest one that extended ``period_end``. ``reminded_for`` is the period end a
    reminder was sent for (so once per period); ``channel_removed_at`` when the fan was taken
    out of the package's channel after expiry (or found not removable)."""

    __tablename__ = "vip_subscriptions"
    tenant_id_indexed = False
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "package_id"),
        CheckConstraint("status IN ('active', 'cancelled', 'expired')", name="status_known"),
        Index("ix_vip_subscriptions_status_period_end", "status", "period_end"),
        Index("ix_vip_subscriptions_tenant_id_package_id", "tenant_id", "package_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    package_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("vip_packages.id", ondelete="CASCADE")
    )
    status: Mapped[VipStatus] = mapped_column(String(16), default=VipStatus.ACTIVE)
    period_end: Mapped[datetime]
    is_recurring: Mapped[bool] = mapped_column(Boolean, default=True)
    subscription_charge_id: Mapped[str | None] = mapped_column(String(256))
    last_charge_id: Mapped[str | None] = mapped_column(String(256))
    cancelled_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
    reminded_for: Mapped[datetime | None]
    channel_removed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)
