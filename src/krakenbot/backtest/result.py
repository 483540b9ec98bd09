"""A finished backtest as data: the figures, the round trips, and `result.json`'s document.

Owns: `Outcome` (what a run leaves: the engine core, the venue, the loop's counts, equity
curve and prices), `summary` (the figures of the terminal table and of a sweep's rows:
backtest/metrics.py over the portfolio's round trips and the equity curve, plus orders,
fills, fees, risk denials by rule, the largest entry against MAX_TRADE_SIZE) and `document`
(`result.json`: the run's description, the summary and every round trip). Deterministic:
no wall-clock time, no paths chosen by the machine, amounts as exact decimal text, keys
sorted by the writer; the same inputs give the same bytes. Pure: no I/O.
Imports: domain, engine, backtest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from krakenbot.backtest.loop import Backtest
from krakenbot.backtest.metrics import Metrics, compute
from krakenbot.domain.portfolio import RoundTrip

FORMAT = 1
NS = 1_000_000_000
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Outcome:
    loop: Backtest
    start_ns: int
    end_ns: int

    @property
    def trips(self) -> list[RoundTrip]:
        return self.loop.core.portfolio.round_trips()

    def metrics(self) -> Metrics:
        return compute(self.trips, self.loop.equity, start_ns=self.start_ns, end_ns=self.end_ns)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _ratio(value: Decimal | None) -> str | None:
    """A fraction shown to 10 places (an exact division can run to 28 digits)."""
    return None if value is None else str(value.quantize(Decimal("1E-10")))


def iso(ns: int) -> str:
    stamp = datetime.fromtimestamp(ns // NS, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    micros = (ns % NS) // 1000
    return f"{stamp}.{micros:06d}Z" if micros else f"{stamp}Z"


def summary(outcome: Outcome, max_trade_usd: Decimal) -> dict[str, Any]:
    loop = outcome.loop
    core, counts, venue = loop.core, loop.counts, loop.venue
    m = outcome.metrics()
    equity = loop.equity
    positions = {s: q for s, q in sorted(core.portfolio.positions().items()) if q}
    marks = {s: venue.markets[s].price(last) for s in positions if (last := venue.markets[s].last)}
    unrealized = core.portfolio.unrealized_total(marks)
    return {
        "trades": m.trades,
        "wins": m.wins,
        "win_rate": _ratio(m.win_rate),
        "realized_pnl": str(m.realized),
        "unrealized_pnl": _text(unrealized),
        "fees": str(m.fees),
        "start_equity": str(equity[0].equity) if equity else None,
        "end_equity": str(equity[-1].equity) if equity else None,
        "total_return": _ratio(m.total_return),
        "annualised_return": m.annualised_return,
        "max_drawdown": _ratio(m.max_drawdown),
        "max_drawdown_s": m.max_drawdown_ns / NS,
        "sharpe": m.sharpe,
        "sortino": m.sortino,
        "exposure": _ratio(m.exposure),
        "orders": counts.orders_sent,
        "cancels": counts.cancels_sent,
        "fills": core.counts.fills,
        "risk_denials": dict(sorted(counts.denials.items())),
        "largest_entry_usd": str(counts.largest_entry),
        "max_trade_size_usd": str(max_trade_usd),
        "largest_entry_within_limit": counts.largest_entry <= max_trade_usd,
        "open_positions": {s: str(q) for s, q in positions.items()},
        "reconcile_requests": len(counts.reconcile_requests),
    }


def trip_row(trip: RoundTrip) -> dict[str, Any]:
    return {
        "pair": trip.symbol,
        "side": trip.side.value,
        "opened": iso(trip.opened_ns),
        "closed": None if trip.closed_ns is None else iso(trip.closed_ns),
        "entry_price": str(trip.entry_price),
        "exit_price": _text(trip.exit_price),
        "volume": str(trip.volume),
        "open_volume": str(trip.open_volume),
        "realized_pnl": str(trip.realized),
        "fees": str(trip.fees),
        "cl_ord_id": trip.cl_ord_id,
    }


def document(outcome: Outcome, run: Mapping[str, Any], max_trade_usd: Decimal) -> dict[str, Any]:
    """`result.json`: `run` describes what ran (strategy, data, settings), then the figures
    and the round trips."""
    loop = outcome.loop
    return {
        "format": FORMAT,
        "run": dict(run),
        "span": {"from": iso(outcome.start_ns), "until": iso(outcome.end_ns)},
        "market_items": loop.counts.market_items,
        "summary": summary(outcome, max_trade_usd),
        "trades": [trip_row(t) for t in outcome.trips],
        "open_orders_at_end": [
            {
                "cl_ord_id": o.cl_ord_id,
                "pair": o.symbol,
                "side": o.side.value,
                "type": o.order_type.value,
                "qty": str(o.qty),
                "price": _text(o.limit_price or o.trigger_price),
            }
            for o in loop.venue.open_orders()
        ],
        "balances_at_end": {a: str(v) for a, v in sorted(loop.venue.balances.items())},
    }


__all__ = ["FORMAT", "Outcome", "document", "iso", "summary", "trip_row"]
