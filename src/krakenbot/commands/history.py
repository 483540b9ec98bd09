"""`krakenbot trades`, `orders` and `profit`: the trade history, from the ledger.

Owns: the three commands' arguments, reading the ledger for them and printing.
`trades [--fills] [--since T] [--pair P]` lists round trips (the `trades` table: a position
from flat to flat) or, with `--fills`, each execution; `orders [--open] [--since T]
[--pair P]` the orders; `profit [--by day|pair]` realized PnL by UTC day or by pair, with the
totals `status` shows. A table for people; `--json` / `--csv` for tools (every column, exact).
The ledger is found as `status` finds it (commands/_ledger.py; `--db PATH` names one) and is
opened read-only: SQLite's WAL lets the daemon keep writing while it is read, and nothing
here ever writes, migrates or locks it. PnL is the portfolio's (app/history.py).
Decimals for people come from the daemon's last status snapshot in the ledger (Kraken's
AssetPairs); a ledger without one (a backtest's) prints at most 8 places.
Exit status: 0 listed (also when nothing matches), 1 the ledger cannot be read (missing, not
a krakenbot ledger, unreadable), 2 usage: bad options, unreadable settings, or several
daemons run and none was named.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from krakenbot.app.history import (
    Listing,
    fill_listing,
    order_listing,
    profit_listing,
    trip_listing,
)
from krakenbot.app.status_model import StatusReport
from krakenbot.app.supervisor import STATUS_STATE_KEY
from krakenbot.clock import Clock, SystemClock
from krakenbot.commands._arg_types import pair_name, since_time
from krakenbot.commands._history_out import Places, money, render_csv, render_json, render_table
from krakenbot.commands._ledger import add_ledger_arguments, find_ledger
from krakenbot.commands._output import emit
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import OrderRecord
from krakenbot.domain.portfolio import Portfolio, utc_day
from krakenbot.errors import KrakenbotError
from krakenbot.store import LedgerRepository, open_ledger_read_only

EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trades = subparsers.add_parser(
        "trades", help="round trips (or --fills: executions) from the ledger"
    )
    trades.add_argument("--fills", action="store_true", help="each execution, not round trips")
    _filters(trades)
    _common(trades)
    trades.set_defaults(handler=trades_command)

    orders = subparsers.add_parser("orders", help="orders from the ledger")
    orders.add_argument("--open", action="store_true", help="only orders not final yet")
    _filters(orders)
    _common(orders)
    orders.set_defaults(handler=orders_command)

    profit = subparsers.add_parser("profit", help="realized PnL by UTC day or by pair")
    profit.add_argument("--by", choices=("day", "pair"), default="day", help="default: day")
    _common(profit)
    profit.set_defaults(handler=profit_command)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since",
        type=since_time,
        default=None,
        metavar="T",
        help="from T on: 2026-01-31, 2026-01-31T12:00 (UTC unless a zone is given), "
        "or back from now: 30m, 12h, 7d, 2w",
    )
    p.add_argument("--pair", type=pair_name, default=None, metavar="P", help="e.g. XLM/USD")


def _common(p: argparse.ArgumentParser) -> None:
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object (exact decimals)")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row (exact decimals)")
    add_ledger_arguments(p)


@dataclass(frozen=True, slots=True)
class LedgerView:
    """What the commands read from one ledger, in one go."""

    path: Path
    fills: list[Fill] = field(default_factory=list)
    orders: list[OrderRecord] = field(default_factory=list)
    places: Places = field(default_factory=Places)
    marks: dict[str, Decimal] = field(default_factory=dict)


def _snapshot(text: str | None) -> StatusReport | None:
    """The daemon's last status snapshot (decimals and marks), if it is readable."""
    if not text:
        return None
    try:
        doc = json.loads(text)
        return StatusReport.from_json(doc) if isinstance(doc, dict) else None
    except (ValueError, TypeError):
        return None


def _int_map(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {
        str(k): v
        for k, v in value.items()
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 18
    }


async def read_ledger(path: Path, *, fills: bool, orders: bool, clock: Clock) -> LedgerView:
    """Read the ledger at `path` read-only (raises for a missing or foreign file)."""
    db = await open_ledger_read_only(path)
    try:
        repo = LedgerRepository(db, clock)
        report = _snapshot(await repo.get_state(STATUS_STATE_KEY))
        return LedgerView(
            path=path,
            fills=await repo.load_fills() if fills else [],
            orders=await repo.orders_created_since(0) if orders else [],
            places=Places()
            if report is None
            else Places(_int_map(report.decimals), _int_map(report.price_decimals)),
            marks={} if report is None else report.mark_prices(),
        )
    finally:
        await db.close()


Build = Callable[[LedgerView, int], Listing]
Footer = Callable[[Listing, LedgerView], list[str]]


async def _run(
    args: argparse.Namespace, command: str, build: Build, footer: Footer, *, fills: bool
) -> int:
    choice = find_ledger(args, command)
    if choice.path is None:
        emit(f"krakenbot {command}: {choice.problem}", stream=sys.stderr)
        return EXIT_USAGE
    clock = SystemClock()
    path = choice.path
    try:
        view = await read_ledger(path, fills=fills, orders=not fills, clock=clock)
        listing = build(view, clock.now_ns())
    except (OSError, sqlite3.Error, KrakenbotError, ValueError) as exc:
        # Missing, locked out, not a ledger, or rows no krakenbot wrote (a hand-edited file).
        emit(f"krakenbot {command}: cannot read the ledger {path}: {exc}", stream=sys.stderr)
        return EXIT_UNREADABLE
    if args.json:
        emit(render_json(listing, str(path)))
    elif args.csv:
        emit(render_csv(listing))
    else:
        out = sys.stdout
        text = render_table(
            listing,
            view.places,
            footer(listing, view),
            terminal=out.isatty(),
            encoding=getattr(out, "encoding", None),
        )
        emit(text)
    return EXIT_OK


def _since(args: argparse.Namespace, now_ns: int) -> int | None:
    return None if args.since is None else int(args.since.resolve(now_ns))


async def trades_command(args: argparse.Namespace) -> int:
    def build(view: LedgerView, now_ns: int) -> Listing:
        since = _since(args, now_ns)
        if args.fills:
            return fill_listing(view.fills, since_ns=since, pair=args.pair)
        trips = Portfolio(view.fills).round_trips()  # every fill: then filter the trips
        return trip_listing(trips, since_ns=since, pair=args.pair)

    return await _run(args, "trades", build, _count_footer, fills=True)


async def orders_command(args: argparse.Namespace) -> int:
    def build(view: LedgerView, now_ns: int) -> Listing:
        return order_listing(
            view.orders, open_only=args.open, since_ns=_since(args, now_ns), pair=args.pair
        )

    return await _run(args, "orders", build, _count_footer, fills=False)


async def profit_command(args: argparse.Namespace) -> int:
    def build(view: LedgerView, now_ns: int) -> Listing:
        return profit_listing(
            Portfolio(view.fills), by=args.by, marks=view.marks, today=utc_day(now_ns)
        )

    return await _run(args, "profit", build, _profit_footer, fills=True)


_NOUNS = {"trades": "round trip", "fills": "fill", "orders": "order"}


def _count(n: object, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _count_footer(listing: Listing, view: LedgerView) -> list[str]:
    line = _count(len(listing.rows), _NOUNS.get(listing.name, listing.name))
    total = listing.total
    if listing.name == "trades":
        line += f" ({total.get('closed')} closed, {total.get('open')} open)"
    elif listing.name == "orders":
        line += f" ({total.get('open')} open)"
    return [line, f"ledger: {view.path}"]


def _profit_footer(listing: Listing, view: LedgerView) -> list[str]:
    t = listing.total
    asset = t.get("asset")
    unit = f" {asset}" if isinstance(asset, str) else ""
    places = view.places.asset(asset)
    realized = money(t.get("realized_pnl"), places, sign=True) or "0"
    today = money(t.get("realized_today"), places, sign=True) or "0"
    lines = [
        f"realized PnL    {realized}{unit} (today, UTC: {today}{unit}); "
        f"{_count(t.get('round_trips_closed'), 'round trip')} closed, {t.get('won')} won"
    ]
    positions = t.get("positions")
    marks = t.get("marks")
    if isinstance(positions, dict) and positions and isinstance(marks, dict):
        unrealized = t.get("unrealized_pnl")
        held = ", ".join(
            f"{s} {money(q, view.places.amounts.get(s))}"
            + (f" at {money(marks[s], view.places.prices.get(s))}" if s in marks else "")
            for s, q in positions.items()
        )
        if unrealized is None:
            lines.append(f"unrealized PnL  unknown: no price for every position ({held})")
        else:
            value = money(unrealized, places, sign=True)
            lines.append(
                f"unrealized PnL  {value}{unit} ({held}; the daemon's last prices in the ledger)"
            )
    fees = f"fees            {money(t.get('fees'), places)}{unit}"
    other = t.get("other_fees")
    if isinstance(other, dict) and other:
        also = ", ".join(f"{money(v, None)} {a}" for a, v in other.items())
        fees += f" (also {also}, not in PnL)"
    lines.extend([fees, f"ledger: {view.path}"])
    return lines
