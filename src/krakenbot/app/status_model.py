"""The status report: one shape for `GET /health`, `krakenbot status`, simple_status.py and
the dashboard.

Owns: `StatusReport`, the health verdict (`assess`: healthy / degraded with the reasons),
the conversion of the engine's health value into it (typed: a renamed health field is a
type error, not a line missing from the report), its positions and PnL (`with_pnl`: one
conversion of the portfolio's `PnlReport`, for a running daemon and a stopped one alike),
the rounding of its amounts to the pairs' decimals (a position to the pair's lot decimals,
PnL and fees to its quote's cost decimals: no `-0.1527040334969600000…`, no `0E-8`; the
ledger keeps every digit, and `marks` stay exact: a stopped daemon's status values its
position at them), each pair's top of book and the rate counters; the text rendering is
app/status_text.py. `Any` appears only for JSON documents (the report's own and Kraken's
`--exchange` view). Pure: no I/O, no clock reads (callers pass `now_ns`). Imports: stdlib,
domain.events, domain.portfolio, engine.health and app.exitcodes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import Enum
from typing import Any, Protocol

from krakenbot.app.exitcodes import StatusExit
from krakenbot.domain.events import BookTop
from krakenbot.domain.portfolio import PnlReport
from krakenbot.engine.health import EngineHealth

NS = 1_000_000_000
# Older market data than this means the feed is stalled (Kraken sends a heartbeat every
# second on an idle WS v2 connection — docs: websocket-v2/heartbeat).
STALE_AFTER_S = 30.0
_OK_TRADING = frozenset({"active"})
_OK_BREAKER = frozenset({"closed"})
_CONNECTED = "connected"
# Places for an amount whose pair is unknown (an older snapshot): then trailing zeros go too.
_DEFAULT_PLACES = 8


def jsonable(value: Any) -> Any:
    """Plain JSON types from dataclasses, enums, Decimals (as exact text), mappings, tuples."""
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class StatusReport:
    running: bool
    source: str  # "daemon" (live answer from /health) or "database" (daemon down)
    pid: int | None = None
    mode: str | None = None
    started_ns: int | None = None
    uptime_s: float | None = None
    trading_state: str | None = None
    breaker_state: str | None = None
    market_data_age_s: float | None = None
    book_verified: bool | None = None
    ws_public: str | None = None
    ws_private: str | None = None
    open_orders: int | None = None
    position: dict[str, str] = field(default_factory=dict)  # symbol -> signed base quantity
    daily_pnl: str | None = None  # realized today (UTC) + unrealized: the daily-loss figure
    total_pnl: str | None = None  # realized, all time, fees included
    unrealized_pnl: str | None = None  # at `marks`; None: a position has no mark
    marks: dict[str, str] = field(default_factory=dict)  # prices the positions are valued at
    fees: str | None = None  # quote value of the fees paid in quote or base
    other_fees: dict[str, str] = field(default_factory=dict)  # fees in a third asset
    last_error: str | None = None
    dms_state: str | None = None
    dms_trigger_time: str | None = None
    data_files: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    healthy: bool | None = None  # the daemon's own verdict (loop, private WS, ledger, breaker)
    stopping: bool = False
    exchange: dict[str, Any] | None = None  # `--exchange`: Kraken's view and the differences
    ledger_error: str | None = None  # ledger writes failing: new orders refused, safe stop due
    # Decimal places: pair symbol and base asset -> lot decimals, quote asset -> cost decimals.
    decimals: dict[str, int] = field(default_factory=dict)
    # Pair symbol -> price decimals (the ledger's last snapshot tells `trades` how to print).
    price_decimals: dict[str, int] = field(default_factory=dict)
    realized_today: str | None = None  # realized on the UTC day, fees included
    avg_entry: dict[str, str] = field(default_factory=dict)  # symbol -> average entry (fees in)
    position_pnl: dict[str, str] = field(default_factory=dict)  # symbol -> unrealized at mark
    # symbol -> the engine's top of book: bid, bid_qty, ask, ask_qty, verified, age_s.
    books: dict[str, dict[str, Any]] = field(default_factory=dict)
    # counter ("rest" or a pair) -> {"level", "limit"}: the rate model's view of Kraken's.
    rate_limits: dict[str, dict[str, float]] = field(default_factory=dict)
    dashboard_url: str | None = None  # the running daemon's web dashboard (log in first)
    # Notifications by target kind: sent, failed, dropped, retried, queued (NOTIFY_URLS).
    notifications: dict[str, dict[str, int]] = field(default_factory=dict)

    def with_pnl(self, pnl: PnlReport) -> StatusReport:
        """This report with the portfolio's positions and PnL (the one conversion)."""
        return replace(
            self,
            position={s: str(q) for s, q in pnl.positions.items()},
            daily_pnl=_text(pnl.daily),
            total_pnl=str(pnl.realized),
            unrealized_pnl=_text(pnl.unrealized),
            marks={s: str(m) for s, m in pnl.marks.items()},
            fees=str(pnl.fees),
            other_fees={a: str(f) for a, f in pnl.other_fees.items()},
            realized_today=str(pnl.realized_today),
            avg_entry={s: str(a) for s, a in pnl.avg_entries.items()},
            position_pnl={s: str(u) for s, u in pnl.unrealized_by.items()},
        )

    def mark_prices(self) -> dict[str, Decimal]:
        """`marks` as numbers (a malformed one, e.g. from an old snapshot, is left out)."""
        found: dict[str, Decimal] = {}
        if not isinstance(self.marks, dict):  # a hand-edited or foreign snapshot
            return found
        for symbol, text in self.marks.items():
            try:
                price = Decimal(str(text))
            except (ArithmeticError, ValueError):
                continue
            if price.is_finite() and price > 0:
                found[str(symbol)] = price
        return found

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = jsonable(self)
        verdict, problems = assess(self)
        doc["status"] = verdict.name.lower()
        doc["problems"] = list(problems)
        return doc

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> StatusReport:
        names = {f.name for f in dataclasses.fields(StatusReport)}
        values = {k: v for k, v in doc.items() if k in names}
        values.setdefault("running", False)
        values.setdefault("source", "daemon")
        return StatusReport(**values)


class InstrumentLike(Protocol):
    @property
    def base(self) -> str: ...
    @property
    def quote(self) -> str: ...
    @property
    def lot_decimals(self) -> int: ...
    @property
    def cost_decimals(self) -> int: ...
    @property
    def price_decimals(self) -> int: ...


def amount_decimals(instruments: Mapping[str, InstrumentLike]) -> dict[str, int]:
    """The decimal places of each traded pair's amounts (Kraken's AssetPairs)."""
    places: dict[str, int] = {}
    for symbol, inst in instruments.items():
        places[symbol] = places[inst.base] = inst.lot_decimals
        places[inst.quote] = max(places.get(inst.quote, 0), inst.cost_decimals)
    return places


def price_places(instruments: Mapping[str, InstrumentLike]) -> dict[str, int]:
    """The decimal places of each traded pair's prices (AssetPairs `pair_decimals`)."""
    return {symbol: inst.price_decimals for symbol, inst in instruments.items()}


def amount_text(value: object, places: int | None) -> str | None:
    """`value` rounded to `places` (None: at most 8, trailing zeros dropped), never in
    exponent form and never `-0`; text that is not a number is returned as it is."""
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            return str(value)
        step = Decimal(1).scaleb(-(_DEFAULT_PLACES if places is None else places))
        amount = amount.quantize(step, rounding=ROUND_HALF_EVEN)
    except (InvalidOperation, ValueError):
        return str(value)
    if places is None:
        amount = amount.normalize()
    if amount == 0:
        amount = abs(amount)
    return f"{amount:f}"


def rounded(report: StatusReport) -> StatusReport:
    """The report with its position and PnL rounded to the pairs' decimals."""
    places = report.decimals
    quotes = [places.get(sym.split("/")[1]) for sym in places if sym.count("/") == 1]
    pnl = max((q for q in quotes if q is not None), default=None)
    position = {k: amount_text(v, places.get(k)) or "" for k, v in report.position.items()}
    return replace(
        report,
        position=position,
        daily_pnl=amount_text(report.daily_pnl, pnl),
        total_pnl=amount_text(report.total_pnl, pnl),
        unrealized_pnl=amount_text(report.unrealized_pnl, pnl),
        fees=amount_text(report.fees, pnl),
        other_fees={k: amount_text(v, None) or "" for k, v in report.other_fees.items()},
        realized_today=amount_text(report.realized_today, pnl),
        avg_entry={
            k: amount_text(v, report.price_decimals.get(k)) or ""
            for k, v in report.avg_entry.items()
        },
        position_pnl={k: amount_text(v, pnl) or "" for k, v in report.position_pnl.items()},
    )


def assess(report: StatusReport) -> tuple[StatusExit, tuple[str, ...]]:
    """Health-check verdict: NOT_RUNNING, or DEGRADED with reasons, or HEALTHY."""
    if not report.running:
        return StatusExit.NOT_RUNNING, ("the daemon is not running",)
    problems: list[str] = []
    if report.stopping:
        problems.append("the daemon is stopping")
    trading = (report.trading_state or "").lower()
    if trading and trading not in _OK_TRADING:
        problems.append(f"trading state is {report.trading_state}")
    breaker = (report.breaker_state or "").lower()
    if breaker and breaker not in _OK_BREAKER:
        problems.append(f"circuit breaker is {report.breaker_state}")
    if report.market_data_age_s is None:
        problems.append("no market data yet")
    elif report.market_data_age_s > STALE_AFTER_S:
        problems.append(f"market data is stale ({report.market_data_age_s:.0f} s old)")
    if report.book_verified is False:
        problems.append("order book not verified (checksum)")
    for name, state in (("public", report.ws_public), ("private", report.ws_private)):
        if state is not None and state.lower() != _CONNECTED:
            problems.append(f"{name} WebSocket is {state}")
    if report.ledger_error:
        problems.append(report.ledger_error)
    if report.healthy is False and not problems:
        problems.append("the daemon reports itself unhealthy")
    if report.exchange and report.exchange.get("differences"):
        problems.append("the exchange and the ledger disagree")
    if problems:
        return StatusExit.DEGRADED, tuple(problems)
    return StatusExit.HEALTHY, ()


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def from_engine_health(
    health: EngineHealth,
    *,
    now_ns: int,
    pid: int,
    mode: str,
    started_ns: int,
    healthy: bool,
    dms_state: str | None,
    dms_trigger_time: str | None,
    data_files: Mapping[str, str],
    stopping: bool,
    decimals: Mapping[str, int] | None = None,
    price_decimals: Mapping[str, int] | None = None,
    dashboard_url: str | None = None,
    notifications: Mapping[str, dict[str, int]] | None = None,
) -> StatusReport:
    """The report of a running daemon from the engine's health value, amounts rounded to
    `decimals` (see `rounded`)."""
    last_ns = health.last_market_data_ns
    age = None if not last_ns else max(0.0, (now_ns - last_ns) / NS)
    report = StatusReport(
        running=True,
        source="daemon",
        pid=pid,
        mode=mode,
        started_ns=started_ns,
        uptime_s=round(max(0, now_ns - started_ns) / NS, 3),
        trading_state=health.trading_state.value,
        breaker_state=health.breaker_state.value,
        market_data_age_s=None if age is None else round(age, 3),
        book_verified=health.book_verified,
        ws_public=None if health.ws_public is None else health.ws_public.value,
        ws_private=None if health.ws_private is None else health.ws_private.value,
        open_orders=health.open_orders,
        last_error=health.last_error or None,
        ledger_error=health.ledger_error or None,
        dms_state=dms_state,
        dms_trigger_time=dms_trigger_time,
        data_files=dict(data_files),
        counts=dataclasses.asdict(health.counts),
        healthy=healthy,
        stopping=stopping,
        decimals=dict(decimals or {}),
        price_decimals=dict(price_decimals or {}),
        books={s: _top(b, now_ns) for s, b in sorted(health.books.items())},
        rate_limits={
            r.counter: {"level": round(r.level, 2), "limit": r.limit} for r in health.rates
        },
        dashboard_url=dashboard_url,
        notifications=dict(notifications or {}),
    )
    return rounded(report.with_pnl(health.pnl))


def _top(book: BookTop, now_ns: int) -> dict[str, Any]:
    """One pair's top of book as the report shows it (prices exact, as Kraken sent them)."""
    bid = book.bids[0] if book.bids else None
    ask = book.asks[0] if book.asks else None
    return {
        "bid": None if bid is None else str(bid.price),
        "bid_qty": None if bid is None else str(bid.qty),
        "ask": None if ask is None else str(ask.price),
        "ask_qty": None if ask is None else str(ask.qty),
        "verified": book.verified,
        "age_s": round(max(0, now_ns - book.recv_ns) / NS, 3) if book.recv_ns else None,
    }
