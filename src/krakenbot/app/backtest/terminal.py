"""The backtest's summary for a person at a terminal (rich).

Owns: `print_summary(doc, files, timings)`: trades, win rate, total and annualised return,
maximum drawdown, Sharpe and Sortino, fees, exposure, orders and fills, risk denials by
rule, the largest entry against MAX_TRADE_SIZE, where the files are and how long it took.
Amounts are shown rounded; result.json has every digit.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table


def pct(text: str | None) -> str:
    """A fraction as percent: two places, four below 1 % (small strategies move little)."""
    if text is None:
        return "-"
    value = Decimal(text) * 100
    return f"{value:.4f} %" if abs(value) < 1 else f"{value:.2f} %"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def money(text: str | None) -> str:
    """Money as the summaries show it: 4 places (result.json has every digit)."""
    return "-" if text is None else f"{Decimal(text):.4f}"


def rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    s = doc["summary"]
    quote = next(iter(doc["run"]["cash"]))
    annual = s["annualised_return"]
    denials = s["risk_denials"]
    verdict = "within" if s["largest_entry_within_limit"] else "EXCEEDED"
    return [
        ("round trips (closed)", f"{s['trades']} ({s['wins']} won)"),
        ("win rate", pct(s["win_rate"])),
        ("total return", pct(s["total_return"])),
        ("annualised return", "-" if annual is None else f"{annual * 100:.2f} %"),
        ("max drawdown", f"{pct(s['max_drawdown'])} (longest {s['max_drawdown_s'] / 3600:.1f} h)"),
        ("Sharpe / Sortino", f"{_num(s['sharpe'])} / {_num(s['sortino'])}"),
        ("realized PnL", f"{money(s['realized_pnl'])} {quote}"),
        ("fees paid", f"{money(s['fees'])} {quote}"),
        ("equity start → end", f"{money(s['start_equity'])} → {money(s['end_equity'])} {quote}"),
        ("exposure (time in a position)", pct(s["exposure"])),
        ("orders / cancels / fills", f"{s['orders']} / {s['cancels']} / {s['fills']}"),
        (
            "risk denials",
            ", ".join(f"{k} {v}" for k, v in denials.items()) if denials else "none",
        ),
        (
            "largest entry vs MAX_TRADE_SIZE",
            f"{money(s['largest_entry_usd'])} / {s['max_trade_size_usd']} {quote} ({verdict})",
        ),
        (
            "open at the end",
            ", ".join(f"{k} {v}" for k, v in s["open_positions"].items()) or "nothing",
        ),
    ]


def parity_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A parity replay's verdict and counts, then its account figures rounded as above
    (result.json has every digit)."""
    p, s = doc["parity"], doc["summary"]
    return [
        ("verdict", str(p["verdict"])),
        ("orders / cancels and amends", f"{p['orders']} / {p['cancels_and_amends']}"),
        ("exchange answers / fills", f"{p['exchange_answers']} / {p['fills']}"),
        ("inputs replayed", str(p["inputs"])),
        ("round trips (closed)", str(s["trades"])),
        ("realized PnL", money(s["realized_pnl"])),
        ("fees paid", money(s["fees"])),
        (
            "open at the end",
            ", ".join(f"{k} {v}" for k, v in s["open_positions"].items()) or "nothing",
        ),
    ]


def print_summary(
    doc: Mapping[str, Any], files: Mapping[str, str], timings: Mapping[str, float]
) -> None:
    run = doc["run"]
    table = Table(
        title=f"backtest: {run['strategy']} on {', '.join(run['pairs'])} "
        f"({doc['span']['from']} → {doc['span']['until']})",
        show_header=False,
    )
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for name, value in rows(doc):
        table.add_row(name, value)
    console = Console(highlight=False)
    console.print(table)
    for name, path in files.items():
        console.print(f"{name:<8} {path}")
    spent = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
    console.print(f"{doc['market_items']} market items; {spent}")


__all__ = ["pct", "print_summary", "rows"]
