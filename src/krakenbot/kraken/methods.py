"""What each Kraken REST method is: public or private, read-only or trading, its priority.

Owns: the method vocabularies used by the REST client and by `krakenbot api`.
Must not import: I/O, the clock, layers above `domain`.
Facts: docs.kraken.com/rest (method list); the read-only set is an allow-list on purpose:
a method we do not know is treated as one that may trade or move money.
"""

from __future__ import annotations

from enum import IntEnum

PUBLIC_METHODS = frozenset(
    {"Time", "SystemStatus", "Assets", "AssetPairs", "Ticker", "OHLC", "Depth", "Trades", "Spread"}
)

READ_ONLY_PRIVATE = frozenset(
    {
        "Balance",
        "BalanceEx",
        "TradeBalance",
        "OpenOrders",
        "ClosedOrders",
        "QueryOrders",
        "OrderAmends",
        "TradesHistory",
        "QueryTrades",
        "OpenPositions",
        "Ledgers",
        "QueryLedgers",
        "TradeVolume",
        "GetWebSocketsToken",
        "DepositMethods",
        "DepositStatus",
        "WithdrawMethods",
        "WithdrawAddresses",
        "WithdrawStatus",
    }
)

CANCEL_METHODS = frozenset({"CancelOrder", "CancelOrderBatch", "CancelAll", "CancelAllOrdersAfter"})
ORDER_METHODS = frozenset({"AddOrder", "AddOrderBatch", "EditOrder", "AmendOrder"})
# The rest of Kraken's spot REST methods: they move money, create things or change the account
# (docs: rest-api Funding, Account Data exports, Subaccounts, Earn), so never "read-only"
# even where a call only reads (ExportStatus): the read-only set stays an allow-list.
ACCOUNT_METHODS = frozenset(
    {
        "DepositAddresses",  # `new=true` creates an address
        "WithdrawInfo",
        "Withdraw",
        "WithdrawCancel",
        "WalletTransfer",
        "AddExport",
        "ExportStatus",
        "RetrieveExport",
        "RemoveExport",
        "CreateSubaccount",
        "AccountTransfer",
        "Earn/Allocate",
        "Earn/Deallocate",
        "Earn/AllocateStatus",
        "Earn/DeallocateStatus",
        "Earn/Strategies",
        "Earn/Allocations",
    }
)
KNOWN_METHODS = (
    PUBLIC_METHODS | READ_ONLY_PRIVATE | CANCEL_METHODS | ORDER_METHODS | ACCOUNT_METHODS
)


class Priority(IntEnum):
    """Lower runs first: cancels and emergency calls, then orders, then queries."""

    CANCEL = 0
    ORDER = 1
    QUERY = 2


def is_public(method: str) -> bool:
    return method in PUBLIC_METHODS


def is_known(method: str) -> bool:
    """A Kraken spot REST method krakenbot knows of (names are case-sensitive)."""
    return method in KNOWN_METHODS


def is_read_only(method: str) -> bool:
    """Safe to run without trading permission and safe to retry: changes nothing."""
    return method in PUBLIC_METHODS or method in READ_ONLY_PRIVATE


def priority_of(method: str) -> Priority:
    if method in CANCEL_METHODS:
        return Priority.CANCEL
    if method in ORDER_METHODS:
        return Priority.ORDER
    return Priority.QUERY


def url_path(method: str) -> str:
    return f"/0/{'public' if is_public(method) else 'private'}/{method}"
