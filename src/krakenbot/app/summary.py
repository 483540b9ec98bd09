"""The short report `run --sim` prints at exit: orders, fills, PnL, denials, reconnects, files.

Owns: `SimSummary` (gathered from the ledger and the engine's counters) and its text.
Imports: store, app.status_model.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from krakenbot.store import Database


@dataclass(frozen=True, slots=True)
class SimSummary:
    seconds: float
    speed: float
    orders: int
    orders_by_status: dict[str, int]
    fills: int
    closed_trades: int
    open_trades: int
    realized_pnl: Decimal
    fees: Decimal
    denials: int
    reconnects: int | None
    open_orders_on_exchange: int | None
    database: str
    log: str
    exit_status: int
    reason: str

    def text(self) -> str:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.orders_by_status.items()))
        lines = [
            f"krakenbot --sim summary ({self.seconds:.0f} s, replay feed at {self.speed:g}x)",
            f"  orders            {self.orders}" + (f"  ({statuses})" if statuses else ""),
            f"  fills             {self.fills}",
            f"  round trips       {self.closed_trades} closed, {self.open_trades} open",
            f"  realized PnL      {self.realized_pnl:+} USD (fees {self.fees} USD)",
            f"  risk denials      {self.denials}",
            f"  WS reconnects     {'?' if self.reconnects is None else self.reconnects}",
        ]
        if self.open_orders_on_exchange is not None:
            lines.append(f"  open at exit      {self.open_orders_on_exchange} (on the exchange)")
        lines += [
            f"  database          {self.database}",
            f"  log               {self.log}",
            f"  exit status       {self.exit_status} ({self.reason})",
        ]
        return "\n".join(lines)


async def _scalar(db: Database, sql: str) -> int:
    row = await db.fetchone(sql)
    return 0 if row is None or row[0] is None else int(row[0])


async def gather(
    db: Database,
    *,
    seconds: float,
    speed: float,
    reconnects: int | None,
    open_on_exchange: int | None,
    database: str,
    log: str,
    exit_status: int,
    reason: str,
) -> SimSummary:
    rows = await db.fetchall("SELECT status, COUNT(*) FROM orders GROUP BY status")
    by_status = {str(r[0]).lower(): int(r[1]) for r in rows}
    pnl_rows = await db.fetchall("SELECT profit_loss, fees FROM trades WHERE status = 'CLOSED'")
    pnl = sum((Decimal(str(r[0])) for r in pnl_rows), Decimal(0))
    fee_rows = await db.fetchall("SELECT fee FROM fills")
    fees = sum((Decimal(str(r[0])) for r in fee_rows), Decimal(0))
    return SimSummary(
        seconds=seconds,
        speed=speed,
        orders=sum(by_status.values()),
        orders_by_status=by_status,
        fills=await _scalar(db, "SELECT COUNT(*) FROM fills"),
        closed_trades=len(pnl_rows),
        open_trades=await _scalar(db, "SELECT COUNT(*) FROM trades WHERE status = 'OPEN'"),
        realized_pnl=pnl,
        fees=fees,
        denials=await _scalar(db, "SELECT COUNT(*) FROM events WHERE kind LIKE '%denied%'"),
        reconnects=reconnects,
        open_orders_on_exchange=open_on_exchange,
        database=database,
        log=log,
        exit_status=exit_status,
        reason=reason,
    )
