"""The status report: one shape for `GET /health`, `krakenbot status` and simple_status.py.

Owns: `StatusReport`, the health verdict (`assess`: healthy / degraded with the reasons),
the conversion of the engine's health value into it (read by attribute name, so the engine
may add fields freely) and the text rendering. Pure: no I/O, no clock reads (callers pass
`now_ns`). Imports: stdlib and app.exitcodes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from krakenbot.app.exitcodes import StatusExit

NS = 1_000_000_000
# Older market data than this means the feed is stalled (Kraken sends a heartbeat every
# second on an idle WS v2 connection — docs: websocket-v2/heartbeat).
STALE_AFTER_S = 30.0
_OK_TRADING = frozenset({"active"})
_OK_BREAKER = frozenset({"closed"})
_CONNECTED = "connected"


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
    position: dict[str, str] = field(default_factory=dict)
    daily_pnl: str | None = None
    total_pnl: str | None = None
    last_error: str | None = None
    dms_state: str | None = None
    dms_trigger_time: str | None = None
    data_files: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    healthy: bool | None = None  # the daemon's own verdict (loop, private WS, ledger, breaker)
    stopping: bool = False
    exchange: dict[str, Any] | None = None  # `--exchange`: Kraken's view and the differences
    ledger_error: str | None = None  # ledger writes failing: new orders refused, safe stop due
    asyncio_tasks: int | None = None  # tasks alive in the daemon's event loop (a leak grows it)

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


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def from_engine_health(
    health: object,
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
) -> StatusReport:
    """The report of a running daemon from the engine's health value (fields by name)."""
    last_ns = getattr(health, "last_market_data_ns", None)
    age = None if not last_ns else max(0.0, (now_ns - int(last_ns)) / NS)
    position_raw = getattr(health, "position", None) or {}
    position = {str(k): str(v) for k, v in dict(position_raw).items()}
    counts_doc = jsonable(getattr(health, "counts", None) or {})
    counts_raw: dict[str, Any] = counts_doc if isinstance(counts_doc, dict) else {}
    counts = {str(k): int(v) for k, v in counts_raw.items() if _is_int(v)}
    open_orders = getattr(health, "open_orders", None)
    if isinstance(open_orders, list | tuple):
        open_orders = len(open_orders)
    verified = getattr(health, "book_verified", None)
    return StatusReport(
        running=True,
        source="daemon",
        pid=pid,
        mode=mode,
        started_ns=started_ns,
        uptime_s=round(max(0, now_ns - started_ns) / NS, 3),
        trading_state=_text(getattr(health, "trading_state", None)),
        breaker_state=_text(getattr(health, "breaker_state", None)),
        market_data_age_s=None if age is None else round(age, 3),
        book_verified=None if verified is None else bool(verified),
        ws_public=_text(getattr(health, "ws_public", None)),
        ws_private=_text(getattr(health, "ws_private", None)),
        open_orders=None if open_orders is None else int(open_orders),
        position=position,
        daily_pnl=_text(getattr(health, "daily_pnl", None)),
        total_pnl=_text(getattr(health, "total_pnl", None)),
        last_error=_text(getattr(health, "last_error", None)) or None,
        ledger_error=_text(getattr(health, "ledger_error", None)) or None,
        dms_state=dms_state,
        dms_trigger_time=dms_trigger_time,
        data_files=dict(data_files),
        counts=counts,
        healthy=healthy,
        stopping=stopping,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def render_text(report: StatusReport) -> str:
    """Human-readable lines for `krakenbot status`."""
    verdict, problems = assess(report)
    lines = [f"krakenbot: {verdict.name.lower().replace('_', ' ')}"]
    if report.running:
        lines.append(f"  process        PID {report.pid}, mode {report.mode}, up {_dur(report)}")
    else:
        lines.append("  process        not running (figures below are from the database)")
    rows: list[tuple[str, object]] = [
        ("trading state", report.trading_state),
        ("breaker", report.breaker_state),
        ("market data", _age(report.market_data_age_s) if report.running else None),
        ("book verified", report.book_verified),
        ("ws public", report.ws_public),
        ("ws private", report.ws_private),
        ("open orders", report.open_orders),
        ("position", ", ".join(f"{k} {v}" for k, v in report.position.items()) or "flat"),
        ("daily PnL", report.daily_pnl),
        ("total PnL", report.total_pnl),
        ("last error", report.last_error or "none"),
        ("ledger", report.ledger_error),
        ("dead man's sw.", _dms(report)),
    ]
    for label, value in rows:
        if value is not None:
            lines.append(f"  {label:<14} {value}")
    if report.counts:
        lines.append("  counts         " + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
    for name, path in report.data_files.items():
        lines.append(f"  {name:<14} {path}")
    if report.exchange is not None:
        lines.extend(_exchange_lines(report.exchange))
    lines.extend(f"  problem: {p}" for p in problems if report.running)
    return "\n".join(lines)


def _dur(report: StatusReport) -> str:
    if report.uptime_s is None:
        return "?"
    s = int(report.uptime_s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s"


def _age(age: float | None) -> str:
    return "none yet" if age is None else f"{age:.1f} s old"


def _dms(report: StatusReport) -> str | None:
    if report.dms_state is None and report.dms_trigger_time is None:
        return None
    trigger = f", fires at {report.dms_trigger_time}" if report.dms_trigger_time else ""
    return f"{report.dms_state or '?'}{trigger}"


def _exchange_lines(exchange: Mapping[str, Any]) -> list[str]:
    lines = ["  exchange:"]
    if exchange.get("error"):
        lines.append(f"    error          {exchange['error']}")
    balances = exchange.get("balances") or {}
    if balances:
        lines.append("    balances       " + ", ".join(f"{k} {v}" for k, v in balances.items()))
    if "open_orders" in exchange:
        listed = exchange["open_orders"]
        foreign = [o for o in listed if o.get("foreign")]
        lines.append(f"    open orders    {len(listed) - len(foreign)} of krakenbot")
        for o in foreign:
            what = o.get("description") or o.get("unreadable") or ""
            lines.append(f"    FOREIGN        {o.get('txid')} {o.get('pair')} {what} (left alone)")
    for diff in exchange.get("differences") or []:
        lines.append(f"    DIFFERENCE     {diff}")
    return lines
