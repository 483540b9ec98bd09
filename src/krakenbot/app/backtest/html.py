"""The backtest's HTML report: one self-contained file that opens offline.

Owns: `render(outcome, doc) -> str` (a backtest) and `render_parity(charts, doc)` (the
parity replay of a `run --record` recording): the summary, the price of each pair with our buys and
sells marked, the equity curve and its drawdown (plotly, its JavaScript inlined: no CDN, no
network), and a table of every round trip. Long curves are thinned to at most
`MAX_POINTS` points a series for the browser (result.json and the ledger keep everything).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from krakenbot.app.backtest import terminal
from krakenbot.backtest.charts import Charts
from krakenbot.backtest.result import Outcome
from krakenbot.domain.enums import Side

NS = 1_000_000_000
MAX_POINTS = 5000

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
.loss { color: #b00; } .win { color: #070; }
"""


_MARKERS = ((Side.BUY, "triangle-up", "#080"), (Side.SELL, "triangle-down", "#c00"))


def _when(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS, UTC)


def _thin(points: Sequence[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    if len(points) <= MAX_POINTS:
        return list(points)
    step = -(-len(points) // MAX_POINTS)
    kept = list(points[::step])
    if kept[-1] is not points[-1]:
        kept.append(points[-1])
    return kept


def _drawdown(points: Sequence[tuple[int, Decimal]]) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []
    peak: Decimal | None = None
    for t, v in points:
        peak = v if peak is None or v > peak else peak
        out.append((t, float((v - peak) / peak * 100) if peak else 0.0))
    return out


def _charts(outcome: Outcome) -> Charts:
    loop = outcome.loop
    equity = [(p.time_ns, p.equity) for p in loop.equity]
    return Charts(loop.prices, loop.venue.fills, equity)


def _figure(charts: Charts) -> go.Figure:
    pairs = [s for s, series in charts.prices.items() if series]
    rows = len(pairs) + 2
    titles = [f"{p} price (▲ buy, ▼ sell)" for p in pairs] + ["equity", "drawdown %"]
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.04, subplot_titles=titles
    )
    for row, pair in enumerate(pairs, start=1):
        series = _thin(charts.prices[pair])
        fig.add_trace(
            go.Scatter(
                x=[_when(t) for t, _ in series],
                y=[float(p) for _, p in series],
                name=pair,
                mode="lines",
                line={"width": 1},
            ),
            row=row,
            col=1,
        )
        for side, symbol, colour in (
            (Side.BUY, "triangle-up", "#080"),
            (Side.SELL, "triangle-down", "#c00"),
        ):
            fills = [f for f in charts.fills if f.symbol == pair and f.side is side]
            fig.add_trace(
                go.Scatter(
                    x=[_when(f.exchange_ns) for f in fills],
                    y=[float(f.price) for f in fills],
                    name=f"{pair} {side.value}s",
                    mode="markers",
                    marker={"symbol": symbol, "size": 9, "color": colour},
                ),
                row=row,
                col=1,
            )
    equity = charts.equity
    shown = _thin(equity)
    fig.add_trace(
        go.Scatter(x=[_when(t) for t, _ in shown], y=[float(v) for _, v in shown], name="equity"),
        row=rows - 1,
        col=1,
    )
    dd = _thin([(t, Decimal(repr(v))) for t, v in _drawdown(equity)])
    fig.add_trace(
        go.Scatter(
            x=[_when(t) for t, _ in dd],
            y=[float(v) for _, v in dd],
            name="drawdown %",
            fill="tozeroy",
            line={"color": "#c00"},
        ),
        row=rows,
        col=1,
    )
    fig.update_layout(height=260 * rows, margin={"t": 40, "b": 30}, showlegend=False)
    return fig


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    head = "".join(
        f"<th{' class=l' if i < left else ''}>{html.escape(h)}</th>" for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f"<td{' class=l' if i < left else ''}>{html.escape(c)}</td>" for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary_rows(doc: Mapping[str, Any]) -> list[list[str]]:
    """The figures as the terminal summary shows them (rounded; result.json has every digit)."""
    return [list(row) for row in terminal.rows(doc)]


def render(outcome: Outcome, doc: Mapping[str, Any]) -> str:
    run = doc["run"]
    title = f"krakenbot backtest: {run['strategy']} on {', '.join(run['pairs'])}"
    span = doc["span"]
    about = (
        f"{html.escape(span['from'])} → {html.escape(span['until'])}, "
        f"{doc['market_items']} market items; data: {html.escape(_source(run['data']))}"
    )
    return _page(title, about, _summary_rows(doc), _charts(outcome), doc["trades"])


def _source(data: Mapping[str, Any]) -> str:
    """Where the data came from, as words (result.json keeps the mapping)."""
    return ", ".join(f"{key} {value}" for key, value in data.items())


def render_parity(charts: Charts, doc: Mapping[str, Any]) -> str:
    """The parity replay's report (commands/_backtest_parity.py): the verdict and counts,
    the same charts (the account as the replayed engine saw it) and round trips."""
    run, parity = doc["run"], doc["parity"]
    names = sorted({s["name"] for s in run["strategies"]}) if run["strategies"] else []
    title = f"krakenbot parity replay: {', '.join(names) or 'no strategy'}"
    about = (
        f"{html.escape(str(run['data']['path']))}: {parity['inputs']} inputs replayed; the "
        "replay sent exactly the orders, cancels and amends the run sent"
    )
    rows = [list(row) for row in terminal.parity_rows(doc)]
    return _page(title, about, rows, charts, doc["trades"])


def _page(
    title: str,
    about: str,
    summary: list[list[str]],
    charts: Charts,
    round_trips: Sequence[Mapping[str, Any]],
) -> str:
    plot = _figure(charts).to_html(full_html=False, include_plotlyjs=True, div_id="charts")
    trades = [
        [
            t["pair"],
            t["side"],
            t["opened"],
            t["closed"] or "open",
            t["entry_price"],
            t["exit_price"] or "",
            t["volume"],
            terminal.money(t["realized_pnl"]),
            terminal.money(t["fees"]),
        ]
        for t in round_trips
    ]
    headers = ["pair", "side", "opened", "closed", "entry", "exit", "volume", "PnL", "fees"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{about}</p>
<h2>Summary</h2>
{_table(["figure", "value"], summary)}
<h2>Charts</h2>
{plot}
<h2>Round trips ({len(trades)})</h2>
<div id="trades">{_table(headers, trades, left=4)}</div>
</body></html>
"""


__all__ = ["MAX_POINTS", "render", "render_parity"]
