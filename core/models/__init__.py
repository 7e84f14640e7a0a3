"""Every SQLAlchemy model, imported here so ``Base.metadata`` (and alembic) sees them all."""

from core.models.bot import Referral, TenantText
from core.models.catalog import PricingModel, TenantToolSettings, Tool, ToolCategory
from core.models.drive import File, Folder
from core.models.jobs import Job, JobStatus, RunStatus, Workflow, WorkflowRun
from core.models.ledger import LedgerAccount, LedgerEntry
from core.models.tenant import Tenant, TenantBot, TenantRole
from core.models.user import User

__all__ = [
    "File",
    "Folder",
    "Job",
    "JobStatus",
    "LedgerAccount",
    "LedgerEntry",
    "PricingModel",
    "Referral",
    "RunStatus",
    "Tenant",
    "TenantBot",
    "TenantRole",
    "TenantText",
    "TenantToolSettings",
    "Tool",
    "ToolCategory",
    "User",
    "Workflow",
    "WorkflowRun",
]
