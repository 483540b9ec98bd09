"""The pairs' exchange rules beside the downloaded data: `DATA_DIR/market/pairs.json`.

Owns: `save_pairs(root, instruments)` — what `download-data` learned from Kraken's public
`AssetPairs` (tick, lot and cost precision, minimums, names) for each pair it fetched, merged
into the file (a pair fetched again is updated; others are kept), written atomically with
sorted keys (the same pairs give the same bytes) — and `load_pairs(root)`, which the backtest
reads for a pair the simulator's table (sim/pairs.py) does not hold, so any pair downloaded
can be backtested with its real rules. A missing file is no pairs; an unreadable one is a
`StoreError` naming it. Fees are not stored: the backtest applies the `--fee-tier` schedule.
Imports: domain, marketdata.store, stdlib.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from krakenbot.domain.instrument import Instrument
from krakenbot.marketdata.store import StoreError, replace_atomically

PAIRS_FILE = "pairs.json"
FORMAT = 1
_TEXT = ("symbol", "rest_id", "altname", "wsname", "base", "quote", "status")
_INTS = ("price_decimals", "lot_decimals", "cost_decimals")
_DECIMALS = ("tick_size", "ordermin", "costmin")


def _to_json(inst: Instrument) -> dict[str, Any]:
    row: dict[str, Any] = {k: getattr(inst, k) for k in _TEXT + _INTS}
    row.update({k: str(getattr(inst, k)) for k in _DECIMALS})
    return row


def _from_json(row: Any) -> Instrument:
    if not isinstance(row, dict):
        raise ValueError(f"a pair is {type(row).__name__}, not an object")
    text = {k: row[k] for k in _TEXT}
    ints = {k: row[k] for k in _INTS}
    if not all(isinstance(v, str) and v for v in text.values()):
        raise ValueError(f"{row.get('symbol')!r}: a name is missing or not text")
    if not all(type(v) is int and 0 <= v <= 18 for v in ints.values()):
        raise ValueError(f"{row['symbol']}: a precision is not a small whole number")
    decimals = {k: Decimal(str(row[k])) for k in _DECIMALS}
    if not all(d.is_finite() and d >= 0 for d in decimals.values()) or decimals["tick_size"] <= 0:
        raise ValueError(f"{row['symbol']}: tick size or minimums out of range")
    return Instrument(
        symbol=text["symbol"],
        rest_id=text["rest_id"],
        altname=text["altname"],
        wsname=text["wsname"],
        base=text["base"],
        quote=text["quote"],
        status=text["status"],
        price_decimals=ints["price_decimals"],
        lot_decimals=ints["lot_decimals"],
        cost_decimals=ints["cost_decimals"],
        tick_size=decimals["tick_size"],
        ordermin=decimals["ordermin"],
        costmin=decimals["costmin"],
    )


def load_pairs(root: Path) -> dict[str, Instrument]:
    """The pairs recorded under `root` (a `DATA_DIR/market` folder), by WS v2 name."""
    path = root / PAIRS_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        pairs = [_from_json(row) for row in doc["pairs"].values()]
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
        problem = f"{path}: unreadable pair rules ({exc}); download the pairs again"
        raise StoreError(problem) from exc
    return {inst.symbol: inst for inst in pairs}


def save_pairs(root: Path, instruments: Iterable[Instrument]) -> None:
    """Record `instruments` under `root`, keeping the pairs recorded before."""
    try:
        known = load_pairs(root)
    except StoreError:
        known = {}  # unreadable: rebuilt from what this download knows
    known.update({inst.symbol: inst for inst in instruments})
    doc = {"format": FORMAT, "pairs": {s: _to_json(i) for s, i in sorted(known.items())}}
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    root.mkdir(parents=True, exist_ok=True)
    replace_atomically(root / PAIRS_FILE, lambda p: p.write_text(text, encoding="utf-8"))


__all__ = ["PAIRS_FILE", "load_pairs", "save_pairs"]
