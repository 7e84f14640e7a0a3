"""merge payments and drive branches

Revision ID: d5a4e9df64e5
Revises: 3a95a024259e, b9e492351183
Create Date: 2026-11-21 22:28:37.747776

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "d5a4e9df64e5"
down_revision: Union[str, Sequence[str], None] = ("3a95a024259e", "b9e492351183")
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
