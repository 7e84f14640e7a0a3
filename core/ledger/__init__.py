"""The credit ledger: integer credits per account, every movement an idempotent entry.

Import the service functions from here; :mod:`core.ledger.repository` holds the SQL.
"""

from core.ledger.service import (
    MAX_AMOUNT,
    Account,
    Balance,
    BalanceMismatch,
    LedgerResult,
    LedgerTotals,
    balance_of,
    capture,
    commit_now,
    credit,
    debit,
    find_balance_mismatches,
    get_balance,
    get_or_create_account,
    ledger_totals,
    release,
    reserve,
    user_balance,
)
from core.models.ledger import AccountKind, EntryKind

__all__ = [
    "MAX_AMOUNT",
    "Account",
    "AccountKind",
    "Balance",
    "BalanceMismatch",
    "EntryKind",
    "LedgerResult",
    "LedgerTotals",
    "balance_of",
    "capture",
    "commit_now",
    "credit",
    "debit",
    "find_balance_mismatches",
    "get_balance",
    "get_or_create_account",
    "ledger_totals",
    "release",
    "reserve",
    "user_balance",
]
