"""`krakenbot status` as text for people: one line per fact of the status report.

Owns: `render_text` and its helpers (durations, ages, the dead man's switch, fees, the
exchange's view). The report itself and its verdict are app/status_model.py. Pure: no I/O.
Imports: stdlib, app.status_model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from krakenbot.app.status_model import StatusReport, assess


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
        ("unrealized PnL", _unrealized(report)),
        ("fees", _fees(report)),
        ("last error", report.last_error or "none"),
        ("ledger", report.ledger_error),
        ("dead man's sw.", _dms(report)),
        ("dashboard", report.dashboard_url if report.running else None),
    ]
    for label, value in rows:
        if value is not None:
            lines.append(f"  {label:<14} {value}")
    if report.counts:
        lines.append("  counts         " + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
    for target, c in report.notifications.items():
        told = ", ".join(f"{k} {v}" for k, v in c.items())
        lines.append(f"  {'notify ' + target:<14} {told}")
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


def _unrealized(report: StatusReport) -> str | None:
    if not report.position:
        return None
    if report.unrealized_pnl is None:
        return "unknown (no price for a position)"
    at = ", ".join(f"{s} {m}" for s, m in report.marks.items())
    return f"{report.unrealized_pnl} (at {at})" if at else report.unrealized_pnl


def _fees(report: StatusReport) -> str | None:
    other = ", ".join(f"{f} {a}" for a, f in report.other_fees.items())
    if report.fees is None:
        return other or None
    return f"{report.fees}" + (f" (and {other}, not in PnL)" if other else "")


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
