"""Every SQLAlchemy model, imported here so ``Base.metadata`` (and alembic) sees them all."""

from core.models.ledger import LedgerAccount, LedgerEntry
from core.models.tenant import Tenant, TenantBot, TenantRole
from core.models.user import User

__all__ = ["LedgerAccount", "LedgerEntry", "Tenant", "TenantBot", "TenantRole", "User"]
