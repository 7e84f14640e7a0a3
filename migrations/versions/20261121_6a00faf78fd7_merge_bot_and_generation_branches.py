"""merge bot and generation branches

Revision ID: 6a00faf78fd7
Revises: 94bdbe3b11ff, f3b4d129a6b9
Create Date: 2026-11-21 22:03:23.627544

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "6a00faf78fd7"
down_revision: Union[str, Sequence[str], None] = ("94bdbe3b11ff", "f3b4d129a6b9")
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
