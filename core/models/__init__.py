"""Every SQLAlchemy model, imported here so ``Base.metadata`` (and alembic) sees them all."""

from core.models.bot import Referral, TenantText
from core.models.broadcasts import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus
from core.models.catalog import PricingModel, TenantToolSettings, Tool, ToolCategory
from core.models.chatlog import ChatMessage, Direction
from core.models.content import (
    MediaKind,
    Post,
    PostAccess,
    PostMedia,
    PostPackage,
    PostStatus,
    PostUnlock,
    PostView,
    TelegramFileId,
    UnlockSource,
    VipPackage,
    VipStatus,
    VipSubscription,
)
from core.models.drive import DriveUsage, File, Folder
from core.models.drive_extra import FileTag, ShareLink, ToolFavourite
from core.models.groups import RIGHTS, BotStatus, ChatType, ManagedChat
from core.models.jobs import Job, JobStatus, RunStatus, Workflow, WorkflowRun
from core.models.ledger import LedgerAccount, LedgerEntry
from core.models.payments import (
    CreditPack,
    Order,
    Payment,
    ReconciliationReport,
    Refund,
    TenantSubscription,
)
from core.models.stats import ActivitySource, TenantDailyStat, UserActivityDay
from core.models.tasks import CompletionStatus, Task, TaskCompletion, TaskKind, TaskProblem
from core.models.tenant import Tenant, TenantAdmin, TenantBot, TenantRole
from core.models.ton import TonWallet
from core.models.ton_payments import (
    TonInvoice,
    TonPayout,
    TonPrice,
    TonTransaction,
    TonWatchCursor,
)
from core.models.user import User

__all__ = [
    "RIGHTS",
    "ActivitySource",
    "BotStatus",
    "Broadcast",
    "BroadcastDelivery",
    "BroadcastStatus",
    "ChatMessage",
    "ChatType",
    "CompletionStatus",
    "CreditPack",
    "DeliveryStatus",
    "Direction",
    "DriveUsage",
    "File",
    "FileTag",
    "Folder",
    "Job",
    "JobStatus",
    "LedgerAccount",
    "LedgerEntry",
    "ManagedChat",
    "MediaKind",
    "Order",
    "Payment",
    "Post",
    "PostAccess",
    "PostMedia",
    "PostPackage",
    "PostStatus",
    "PostUnlock",
    "PostView",
    "PricingModel",
    "ReconciliationReport",
    "Referral",
    "Refund",
    "RunStatus",
    "ShareLink",
    "Task",
    "TaskCompletion",
    "TaskKind",
    "TaskProblem",
    "TelegramFileId",
    "Tenant",
    "TenantAdmin",
    "TenantBot",
    "TenantDailyStat",
    "TenantRole",
    "TenantSubscription",
    "TenantText",
    "TenantToolSettings",
    "TonInvoice",
    "TonPayout",
    "TonPrice",
    "TonTransaction",
    "TonWallet",
    "TonWatchCursor",
    "Tool",
    "ToolCategory",
    "ToolFavourite",
    "UnlockSource",
    "User",
    "UserActivityDay",
    "VipPackage",
    "VipStatus",
    "VipSubscription",
    "Workflow",
    "WorkflowRun",
]
