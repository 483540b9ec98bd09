"""The short report `run --sim` prints at exit: orders, fills, PnL, denials, reconnects, files.

Owns: `SimSummary` (gathered from the ledger and the engine's counters), its text, and
`print_summary`. Round trips, positions and PnL come from the ledger's portfolio
(`LedgerRepository.load_portfolio`, the engine's own arithmetic); the position kept at exit
is valued at the daemon's last marks. Orders still open at exit are counted on the embedded
simulator itself (it runs in this process): no rate-limited REST query slows the exit.
Imports: anything (composition root).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from krakenbot.app.supervisor import Daemon, RunOutcome
from krakenbot.config import Settings
from krakenbot.domain.portfolio import utc_day
from krakenbot.errors import KrakenbotError
from krakenbot.sim import Sim
from krakenbot.store import Database, LedgerRepository

_OPEN = frozenset({"pending", "open"})  # the simulator's order states that are still open


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
    positions: dict[str, Decimal]  # kept at exit (signed base quantity)
    marks: dict[str, Decimal]  # the prices they are valued at
    unrealized_pnl: Decimal | None  # None: a position without a price
    other_fees: dict[str, Decimal]  # fees charged in a third asset (not in PnL)
    denials: int
    reconnects: int | None
    open_orders_on_exchange: int | None
    database: str
    log: str
    exit_status: int
    reason: str
    order_lines: tuple[str, ...] = ()
    largest_order_usd: Decimal = Decimal(0)
    max_trade_usd: Decimal | None = None
    # Protective stops still resting (side qty @ trigger): kept on purpose with the position.
    protective_stops: tuple[str, ...] = ()

    def text(self) -> str:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.orders_by_status.items()))
        lines = [
            f"krakenbot --sim summary ({self.seconds:.0f} s, replay feed at {self.speed:g}x)",
            f"  orders            {self.orders}" + (f"  ({statuses})" if statuses else ""),
            f"  fills             {self.fills}",
            f"  round trips       {self.closed_trades} closed, {self.open_trades} open",
            f"  realized PnL      {_cents(self.realized_pnl, sign=True)} USD"
            f" (fees {_cents(self.fees)} USD{self._other_fees()})",
            f"  position at exit  {self._position()}",
            f"  risk denials      {self.denials}",
            f"  WS reconnects     {'?' if self.reconnects is None else self.reconnects}",
        ]
        if self.max_trade_usd is not None:
            verdict = "held" if self.largest_order_usd <= self.max_trade_usd else "EXCEEDED"
            lines.append(
                f"  largest entry     {self.largest_order_usd} USD "
                f"(MAX_TRADE_SIZE {self.max_trade_usd} USD: {verdict})"
            )
        if self.open_orders_on_exchange is not None:
            lines.append(f"  open at exit      {self.open_orders_on_exchange} (on the exchange)")
        for stop in self.protective_stops:
            lines.append(f"  protective stop   {stop} (kept: it covers the open position)")
        lines += [
            f"  database          {self.database}",
            f"  log               {self.log}",
            f"  exit status       {self.exit_status} ({self.reason})",
        ]
        if self.order_lines:
            lines.append("  orders (oldest first):")
            lines.extend(f"    {line}" for line in self.order_lines)
        return "\n".join(lines)

    def _other_fees(self) -> str:
        other = ", ".join(f"{fee} {asset}" for asset, fee in sorted(self.other_fees.items()))
        return f"; also {other}, not in PnL" if other else ""

    def _position(self) -> str:
        if not self.positions:
            return "flat"
        held = ", ".join(
            f"{symbol} {qty}" + (f" at {self.marks[symbol]}" if symbol in self.marks else "")
            for symbol, qty in sorted(self.positions.items())
        )
        if self.unrealized_pnl is None:
            return f"{held} (unrealized PnL unknown: no price)"
        return f"{held} (unrealized {_cents(self.unrealized_pnl, sign=True)} USD)"


async def _scalar(db: Database, sql: str) -> int:
    row = await db.fetchone(sql)
    return 0 if row is None or row[0] is None else int(row[0])


async def gather(
    repo: LedgerRepository,
    *,
    marks: Mapping[str, Decimal],
    day: date,
    seconds: float,
    speed: float,
    reconnects: int | None,
    open_on_exchange: int | None,
    database: str,
    log: str,
    exit_status: int,
    reason: str,
    max_trade_usd: Decimal | None = None,
    max_order_lines: int = 12,
) -> SimSummary:
    db = repo.db
    rows = await db.fetchall("SELECT status, COUNT(*) FROM orders GROUP BY status")
    by_status = {str(r[0]).lower(): int(r[1]) for r in rows}
    portfolio = await repo.load_portfolio()
    pnl = portfolio.report(day, marks)
    trips = portfolio.round_trips()
    order_rows = await db.fetchall(
        """SELECT timestamp, type, ordertype, tag, price, volume, filled_volume, avg_fill_price,
        status, reduces_position FROM orders ORDER BY created_ns, id"""
    )
    largest = Decimal(0)
    order_lines: list[str] = []
    stops: list[str] = []
    for r in order_rows:
        # A stop-loss's `price` is its trigger (Kraken's meaning of the column).
        at = "stop @" if r["ordertype"] == "stop-loss" else "@"
        if r["tag"] == "protect" and str(r["status"]).lower() in ("open", "partially_filled"):
            stops.append(f"{r['type']} {r['volume']} {at} {r['price']}")
        price = Decimal(str(r["price"])) if r["price"] is not None else None
        if price is not None and not r["reduces_position"]:  # exits may sell the whole position
            largest = max(largest, price * Decimal(str(r["volume"])))
        avg = f" avg {r['avg_fill_price']}" if r["avg_fill_price"] else ""
        order_lines.append(
            f"{str(r['timestamp'])[11:19]} {r['type']:<4} {r['tag'] or '-':<12} "
            f"{r['volume']} {at} {r['price']} -> {str(r['status']).lower()} "
            f"(filled {r['filled_volume']}{avg})"
        )
    if len(order_lines) > max_order_lines:
        hidden = len(order_lines) - max_order_lines
        order_lines = [*order_lines[:max_order_lines], f"... and {hidden} more"]
    return SimSummary(
        seconds=seconds,
        speed=speed,
        orders=sum(by_status.values()),
        orders_by_status=by_status,
        fills=await _scalar(db, "SELECT COUNT(*) FROM fills"),
        closed_trades=sum(t.closed_ns is not None for t in trips),
        open_trades=sum(t.closed_ns is None for t in trips),
        realized_pnl=pnl.realized,
        fees=pnl.fees,
        positions=dict(pnl.positions),
        marks=dict(pnl.marks),
        unrealized_pnl=pnl.unrealized,
        other_fees=dict(pnl.other_fees),
        denials=await _scalar(db, "SELECT COUNT(*) FROM events WHERE kind LIKE '%denied%'"),
        reconnects=reconnects,
        open_orders_on_exchange=open_on_exchange,
        database=database,
        log=log,
        exit_status=exit_status,
        reason=reason,
        order_lines=tuple(order_lines),
        largest_order_usd=largest.quantize(Decimal("0.01")),
        max_trade_usd=max_trade_usd,
        protective_stops=tuple(stops),
    )


async def gather_text(repo: LedgerRepository, **fields: Any) -> str:
    """`gather(repo, **fields).text()`; when the ledger cannot be read (e.g. its files became
    unwritable, which stopped the daemon), the exit status and reason alone."""
    try:
        return (await gather(repo, **fields)).text()
    except (sqlite3.Error, OSError, KrakenbotError) as exc:
        return (
            f"krakenbot --sim summary: the ledger cannot be read ({exc})\n"
            f"  exit status       {fields.get('exit_status')} ({fields.get('reason')})"
        )


def _cents(amount: Decimal, *, sign: bool = False) -> str:
    """Display only (the ledger keeps every digit): four places are enough for a person."""
    shown = amount.quantize(Decimal("0.0001"))
    return f"{shown:+}" if sign else f"{shown}"


async def print_summary(
    out: TextIO,
    *,
    settings: Settings,
    daemon: Daemon,
    outcome: RunOutcome,
    seconds: float,
    speed: float,
    sim: Sim | None,
) -> None:
    """The `run --sim` summary, printed at exit."""
    report = daemon.report()
    open_on_exchange = None
    if sim is not None:
        open_on_exchange = sum(1 for o in sim.control.orders() if o["status"] in _OPEN)
    text = await gather_text(
        daemon.repo,
        marks=report.mark_prices(),
        day=utc_day(daemon.clock.now_ns()),
        seconds=seconds,
        speed=speed,
        reconnects=report.counts.get("reconnects"),
        open_on_exchange=open_on_exchange,
        # Absolute (as `status` shows them): `trades` or sqlite3 may run from anywhere.
        database=daemon.data_files["database"],
        log=daemon.data_files["log"],
        exit_status=int(outcome.exit_status),
        reason=outcome.reason,
        max_trade_usd=settings.max_trade_size,
    )
    print(text, file=out, flush=True)
