"""Metrics and learning data: the ledger's analytical side tables.

Owns: the SQL for `metrics` (periodic account snapshots) and `learning_data` (the features
behind each entry decision and, later, its outcome). `LedgerRepository` exposes these through
its methods. Imports: store.db/codec, domain, errors; never engine/orders/net.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from krakenbot.domain.ledger import LearningRow, MetricsSnapshot
from krakenbot.errors import InvariantError
from krakenbot.store import ledger_sql
from krakenbot.store.codec import (
    from_json,
    opt_text_to_dec,
    text_to_dec,
)
from krakenbot.store.db import Database

METRICS_FIELDS = (
    "balance_usd",
    "total_trades",
    "winning_trades",
    "total_profit_loss",
    "daily_profit_loss",
)


async def insert_metrics(db: Database, snapshot: MetricsSnapshot, ts_ns: int) -> int:
    # one trip (store/one_trip.py)
    return await db.insert_committed(*ledger_sql.metrics_insert(snapshot, ts_ns))


def metrics_from_mapping(row: Mapping[str, str], ts_ns: int) -> MetricsSnapshot:
    """A snapshot from text values keyed by the column names (exact Decimal parsing)."""
    missing = [name for name in METRICS_FIELDS if name not in row]
    if missing:
        raise InvariantError(f"metrics row lacks {', '.join(missing)}")
    try:
        return MetricsSnapshot(
            balance_usd=text_to_dec(row["balance_usd"]),
            total_trades=int(row["total_trades"]),
            winning_trades=int(row["winning_trades"]),
            total_profit_loss=text_to_dec(row["total_profit_loss"]),
            daily_profit_loss=text_to_dec(row["daily_profit_loss"]),
            ts_ns=ts_ns,
        )
    except ValueError as exc:
        raise InvariantError(f"unreadable metrics row: {exc}") from None


async def latest_metrics(db: Database) -> MetricsSnapshot | None:
    row = await db.fetchone("SELECT * FROM metrics ORDER BY timestamp_ns DESC, id DESC LIMIT 1")
    if row is None:
        return None
    return MetricsSnapshot(
        balance_usd=text_to_dec(row["balance_usd"]),
        total_trades=int(row["total_trades"]),
        winning_trades=int(row["winning_trades"]),
        total_profit_loss=text_to_dec(row["total_profit_loss"]),
        daily_profit_loss=text_to_dec(row["daily_profit_loss"]),
        ts_ns=int(row["timestamp_ns"]),
    )


async def insert_learning(
    db: Database,
    features: Mapping[str, object] | Sequence[tuple[str, str]],
    cl_ord_id: str | None,
    symbol: str | None,
    ts_ns: int,
) -> int:
    statement = ledger_sql.learning_insert(features, cl_ord_id, symbol, ts_ns)
    return await db.insert_committed(*statement)  # one trip (store/one_trip.py)


async def set_outcome(
    db: Database,
    *,
    where: str,
    key: int | str,
    outcome: str,
    profit_loss: Decimal | None,
    ts_ns: int,
) -> int:
    """Fill in the outcome of the rows selected by `where` (a fixed clause); returns the count."""
    statement = ledger_sql.outcome_update(
        where=where, key=key, outcome=outcome, profit_loss=profit_loss, ts_ns=ts_ns
    )
    return await db.execute_committed(*statement)  # one trip (store/one_trip.py)


async def learning_rows(db: Database, where: str, key: int | str) -> list[LearningRow]:
    rows = await db.fetchall(f"SELECT * FROM learning_data WHERE {where} ORDER BY id", (key,))
    return [
        LearningRow(
            id=int(row["id"]),
            ts_ns=int(row["timestamp_ns"]),
            features=from_json(row["feature_data"]),
            cl_ord_id=row["order_id"],
            outcome=row["outcome"],
            profit_loss=opt_text_to_dec(row["profit_loss"]),
            symbol=row["pair"],
            outcome_ns=None if row["outcome_ns"] is None else int(row["outcome_ns"]),
        )
        for row in rows
    ]
