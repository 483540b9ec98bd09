"""How `trades`, `orders` and `profit` print a listing: a table for people, JSON or CSV.

Owns: `Places` (the decimals amounts are rounded to for people: each pair's lot and price
decimals and each quote's cost decimals, as Kraken's AssetPairs gave them to the daemon),
`render_table` (a rich table, the totals under it), `render_json` and `render_csv` (every
column, exact: Decimals as fixed-point strings, times as ISO-8601 UTC and integer ns). The
text is built first and printed with `_output.emit`, so `trades | head` ends quietly.
Not a command (the leading underscore keeps cli.py from loading it). Imports: rich, stdlib,
app.history, app.status_model (rounding).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from krakenbot.app.history import NS, Column, Kind, Listing, Row, exact, records
from krakenbot.app.status_model import amount_text

_NUMERIC = frozenset({Kind.INT, Kind.QTY, Kind.PRICE, Kind.MONEY, Kind.PNL, Kind.FEE, Kind.NUMBER})
_WIDE = 10_000  # not a terminal: as wide as the table is, never wrapped


@dataclass(frozen=True, slots=True)
class Places:
    """Decimal places for people. `amounts`: pair and base asset -> lot decimals, quote
    asset -> cost decimals (the status report's `decimals`); `prices`: pair -> price
    decimals. A value without known places is shown with at most 8, zeros dropped."""

    amounts: Mapping[str, int] = field(default_factory=dict)
    prices: Mapping[str, int] = field(default_factory=dict)

    def asset(self, code: object) -> int | None:
        if not isinstance(code, str) or not code:
            return None
        found = self.amounts.get(code)
        if found is None and len(code) == 4 and code[0] in "XZ":  # Kraken's ZUSD, XXLM
            found = self.amounts.get(code[1:])
        return found

    def of(self, kind: Kind, row: Row) -> int | None:
        pair = str(row.get("pair") or "")
        if kind is Kind.QTY:
            return self.amounts.get(pair)
        if kind is Kind.PRICE:
            return self.prices.get(pair)
        if kind in (Kind.MONEY, Kind.PNL):
            return self.asset(row.get("asset"))
        if kind is Kind.FEE:
            return self.asset(row.get("fee_asset"))
        return None


def money(value: object, places: int | None, *, sign: bool = False) -> str:
    """An amount for people: rounded to `places`, `+` in front of a gain when `sign`."""
    text = amount_text(value, places) or ""
    if sign and isinstance(value, Decimal) and value > 0:
        return "+" + text
    return text


def cell(column: Column, row: Row, places: Places) -> str:
    value = row.get(column.key)
    if value is None:
        return ""
    kind = column.kind
    if kind is Kind.TIME and isinstance(value, int):
        return datetime.fromtimestamp(value // NS, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    if kind is Kind.DAY and isinstance(value, date):
        return value.isoformat()
    if kind in _NUMERIC and kind is not Kind.INT:
        return money(value, places.of(kind, row), sign=kind is Kind.PNL)
    return str(value)


def _style(column: Column, row: Row) -> str:
    value = row.get(column.key)
    if column.kind is Kind.PNL and isinstance(value, Decimal) and value:
        return "green" if value > 0 else "red"
    return ""


def _box(encoding: str | None) -> box.Box:
    """Line-drawing characters where the output can carry them (not a cp1252 console)."""
    try:
        "─".encode(encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return box.ASCII2
    return box.SIMPLE


def render_table(
    listing: Listing,
    places: Places,
    footer: list[str],
    *,
    terminal: bool,
    encoding: str | None,
) -> str:
    """The listing as a table for people (its table columns), then the footer lines."""
    columns = [c for c in listing.columns if c.table]
    table = Table(box=_box(encoding), show_edge=False, pad_edge=False, header_style="bold")
    for col in columns:
        table.add_column(col.title, justify="right" if col.kind in _NUMERIC else "left")
    for row in listing.rows:
        table.add_row(*(Text(cell(c, row, places), style=_style(c, row)) for c in columns))
    width = shutil.get_terminal_size().columns if terminal else _WIDE
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=terminal,
        color_system="standard" if terminal else None,
        highlight=False,
        emoji=False,
    )
    if listing.rows:
        console.print(table)
    for line in footer:
        console.print(Text(line))
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines())


def render_json(listing: Listing, database: str) -> str:
    """One object: the ledger read, the rows under the listing's name, and its totals."""
    doc: dict[str, object] = {"database": database}
    if listing.by is not None:
        doc["by"] = listing.by
    doc[listing.name] = records(listing)
    doc["total"] = exact(listing.total)
    return json.dumps(doc)


def render_csv(listing: Listing) -> str:
    """A header row, then one row per record (every column; empty for None)."""
    rows = records(listing)
    buf = io.StringIO()
    names = [n for c in listing.columns for n in _csv_names(c)]
    writer = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for rec in rows:
        writer.writerow({k: "" if v is None else v for k, v in rec.items()})
    return buf.getvalue().rstrip("\n")


def _csv_names(column: Column) -> list[str]:
    if column.kind is Kind.TIME:
        return [column.key, f"{column.key}_ns"]
    return [column.key]
