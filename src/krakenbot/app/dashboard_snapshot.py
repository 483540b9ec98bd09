"""What the dashboard shows, as JSON: one snapshot of the running daemon, and its PnL curve.

Owns: `LedgerView` (what the ledger's read side holds: open orders, the newest fills and
events, risk denials, the newest trading-state change), `EquityCurve` (realized PnL after
each recorded fill, folded through the one `Portfolio` in the order the ledger recorded the
fills — as the engine applied them — bounded to the newest `max_points`), and
`build_snapshot` / `equity_doc`, the documents a page receives. Nothing is computed here
that has a home elsewhere: the status part is `StatusReport.to_json()` (what `status --json`
and `/health` print), the order and fill rows are the `orders --open --json` and `trades
--fills --json` records (app/history.py), PnL and positions are the portfolio's; the only
sum is the curve's last point, realized + unrealized ("equity now").
Pure: no I/O, no clock reads. Imports: stdlib, domain, app.history, app.status_model,
store.codec (time text).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from krakenbot.app.history import fill_listing, order_listing, records
from krakenbot.app.status_model import StatusReport
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import LedgerEvent, OrderRecord
from krakenbot.domain.portfolio import Portfolio
from krakenbot.store.codec import ns_to_iso

NS = 1_000_000_000
MAX_POINTS = 2000


@dataclass(frozen=True, slots=True)
class LedgerView:
    open_orders: Sequence[OrderRecord] = ()
    fills: Sequence[Fill] = ()  # the newest, oldest first
    events: Sequence[LedgerEvent] = ()  # the newest, oldest first
    denials: Sequence[LedgerEvent] = ()  # the newest `risk_denied` events, oldest first
    state_change: LedgerEvent | None = None  # the newest `trading_state` event
    error: str | None = None  # the ledger could not be read (the rest is the last view)


@dataclass(slots=True)
class EquityCurve:
    max_points: int = MAX_POINTS
    portfolio: Portfolio = field(default_factory=Portfolio)
    points: deque[tuple[int, Decimal]] = field(init=False)

    def __post_init__(self) -> None:
        self.points = deque(maxlen=self.max_points)

    def add(self, fills: Iterable[Fill]) -> bool:
        """Fold newly recorded fills in; True when the curve changed. A fill recorded late
        (found by reconciliation) is drawn at the time it was recorded after the others."""
        changed = False
        for fill in fills:
            if not self.portfolio.apply_fill(fill):
                continue  # a trade id already folded in
            last = self.points[-1][0] if self.points else 0
            self.points.append((max(last, fill.exchange_ns), self.portfolio.realized_total))
            changed = True
        return changed


def _number(text: object) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def equity_now(report: StatusReport) -> str | None:
    """Realized + unrealized PnL now (None while a position has no price)."""
    realized, unrealized = _number(report.total_pnl), _number(report.unrealized_pnl)
    if realized is None or unrealized is None:
        return None
    return f"{realized + unrealized:f}"


def equity_doc(curve: EquityCurve) -> dict[str, Any]:
    """The curve for the chart: [seconds since the epoch, realized PnL] per recorded fill."""
    return {"points": [[t / NS, float(v)] for t, v in curve.points]}


def _detail(payload: Mapping[str, object]) -> str:
    parts = []
    for key, value in payload.items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        parts.append(f"{key}={text}")
    return "; ".join(parts)


def event_row(event: LedgerEvent) -> dict[str, object]:
    return {
        "id": event.id,
        "time": ns_to_iso(event.ts_ns),
        "time_ns": event.ts_ns,
        "kind": event.kind,
        "detail": _detail(event.payload),
    }


def _why(report: StatusReport, change: LedgerEvent | None) -> dict[str, object]:
    reason, since = "", None
    if change is not None and str(change.payload.get("to", "")) == (report.trading_state or ""):
        reason, since = str(change.payload.get("reason", "")), ns_to_iso(change.ts_ns)
    return {"trading_state": report.trading_state, "reason": reason, "since": since}


def _positions(report: StatusReport) -> list[dict[str, object]]:
    return [
        {
            "pair": symbol,
            "qty": qty,
            "avg_entry": report.avg_entry.get(symbol),
            "mark": report.marks.get(symbol),
            "unrealized_pnl": report.position_pnl.get(symbol),
        }
        for symbol, qty in sorted(report.position.items())
    ]


def build_snapshot(
    report: StatusReport, view: LedgerView, *, seq: int, now_ns: int
) -> dict[str, Any]:
    status = report.to_json()
    return {
        "seq": seq,
        "now": ns_to_iso(now_ns),
        "status": status,
        "why": _why(report, view.state_change),
        "positions": _positions(report),
        "books": [{"pair": symbol, **top} for symbol, top in sorted(report.books.items())],
        "orders": records(
            order_listing(view.open_orders, open_only=True, since_ns=None, pair=None)
        ),
        "fills": records(fill_listing(reversed(view.fills), since_ns=None, pair=None)),
        "denials": [event_row(e) for e in reversed(view.denials)],
        "events": [event_row(e) for e in reversed(view.events)],
        "rates": [{"counter": k, **v} for k, v in sorted(report.rate_limits.items())],
        "equity_now": [now_ns / NS, equity_now(report)],
        "ledger_error": view.error,
    }


__all__ = [
    "EquityCurve",
    "LedgerView",
    "build_snapshot",
    "equity_doc",
    "equity_now",
    "event_row",
]
