"""bot: referrals, tenant texts

Revision ID: 94bdbe3b11ff
Revises: dd14921d515c
Create Date: 2026-11-21 21:25:41.729642

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "94bdbe3b11ff"
down_revision: Union[str, Sequence[str], None] = "dd14921d515c"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Referral attributions (one per referred fan) and per-tenant text overrides."""
    op.create_table(
        "tenant_texts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_texts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_texts")),
        sa.UniqueConstraint(
            "tenant_id", "key", "language", name=op.f("uq_tenant_texts_tenant_id_key_language")
        ),
    )
    op.create_index(op.f("ix_tenant_texts_tenant_id"), "tenant_texts", ["tenant_id"], unique=False)
    op.create_table(
        "referrals",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("referrer_id", BIG_ID, nullable=False),
        sa.Column("referred_id", BIG_ID, nullable=False),
        sa.Column("reward", sa.Integer(), nullable=False),
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["referred_id"],
            ["users.id"],
            name=op.f("fk_referrals_referred_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["users.id"],
            name=op.f("fk_referrals_referrer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_referrals_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint(
            "tenant_id", "referred_id", name=op.f("uq_referrals_tenant_id_referred_id")
        ),
    )
    op.create_index(op.f("ix_referrals_referrer_id"), "referrals", ["referrer_id"], unique=False)
    op.create_index(op.f("ix_referrals_tenant_id"), "referrals", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_referrals_tenant_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_referrer_id"), table_name="referrals")
    op.drop_table("referrals")
    op.drop_index(op.f("ix_tenant_texts_tenant_id"), table_name="tenant_texts")
    op.drop_table("tenant_texts")
