"""The backtest's market inputs, read into a `Tape`: the market-data store, the bundled day.

Owns: `load_store` (candles or trades of `download-data` from `DATA_DIR/market/`, read-only:
nothing there is created, repaired or removed), `load_bundled` (the simulator's real day,
2025-11-10 XBT/USDT, rescaled to each pair as the simulator replays it),
`instrument_for` (the exchange rules of a pair: the simulator's table, else what
`download-data` recorded beside the data, read by `stored_pairs`) and the two errors a
bad input becomes: `InputUsageError` (the command line asks for something impossible: exit
2) and `InputDataError` (the data is missing, unreadable, has gaps or is not the pair's:
exit 1). Recordings are app/backtest/recording.py. Every message names the file, the pair
and the time it is about.
"""

from __future__ import annotations

import heapq
import json
from array import array
from collections.abc import Mapping, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from krakenbot.backtest.tape import BarSeries, EventTape, MarketInput
from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.events import MarketTrade
from krakenbot.domain.instrument import Instrument
from krakenbot.marketdata.pairs import load_pairs
from krakenbot.marketdata.ranges import NS, iso
from krakenbot.marketdata.store import Dataset, StoreError, dataset_name
from krakenbot.sim.pairs import DEFAULT_PAIRS
from krakenbot.sim.replay import OHLC_FILE, load_bars, replay_scale

BUNDLED_PAIR_NOTE = "the bundled day is real XBT/USDT candles, rescaled to each pair"


class InputUsageError(Exception):
    """The command line asks for something that cannot be (exit 2)."""


class InputDataError(Exception):
    """The data cannot be used: missing, unreadable, gaps, not the pair's (exit 1)."""


def instrument_for(pair: str, stored: Mapping[str, Instrument] | None = None) -> Instrument:
    """The exchange rules (tick, lot, minimums) of a pair: the simulator's table for the
    pairs it knows (a backtest of them then matches `run --sim`), else `stored`: what
    `download-data` recorded beside the data from Kraken's AssetPairs (marketdata/pairs.py)."""
    key = pair.upper()
    spec = DEFAULT_PAIRS.get(key)
    if spec is not None:
        return spec.instrument()
    found = (stored or {}).get(key)
    if found is None:
        known = ", ".join(sorted(set(DEFAULT_PAIRS) | set(stored or {})))
        raise InputUsageError(
            f"unknown pair {pair!r}: the backtest knows {known} "
            "(and every pair download-data has fetched into the data folder)"
        )
    return found


def stored_pairs(root: Path) -> dict[str, Instrument]:
    """The pairs' rules `download-data` recorded in the store at `root` (none: {})."""
    try:
        return load_pairs(root)
    except StoreError as exc:
        raise InputDataError(str(exc)) from None


# ---------------------------------------------------------------------------- the store
def load_store(
    root: Path,
    instruments: Sequence[Instrument],
    since_ns: int,
    until_ns: int,
    *,
    kind: str = "ohlc",
    interval_min: int = 1,
) -> list[BarSeries] | EventTape:
    """Candles (`kind` ohlc) or trades of every pair in [since, until) from the store at
    `root` (a `DATA_DIR/market` folder); a part of the range the store does not cover is a
    gap, and refused."""
    if since_ns >= until_ns:
        raise InputUsageError(f"--since {iso(since_ns)} is not before --until {iso(until_ns)}")
    name = dataset_name(kind, interval_min)
    tables = []
    for inst in instruments:
        try:
            ds = Dataset(root, name, inst.symbol).open_read_only()
            table, gaps = ds.load_range(since_ns, until_ns)
        except StoreError as exc:
            raise InputDataError(f"{inst.symbol}: {exc}") from None
        if gaps:
            shown = ", ".join(f"{iso(a)} → {iso(b)}" for a, b in gaps[:3])
            more = f" and {len(gaps) - 3} more" if len(gaps) > 3 else ""
            raise InputDataError(
                f"{inst.symbol}: {ds.dir} has gaps in the range (not downloaded): {shown}{more}"
                f"; fetch them with `download-data --pairs {inst.symbol} --since "
                f"{iso(gaps[0][0])[:16]} --until {iso(gaps[-1][1])[:16]}"
                + (" --kind trades`" if kind == "trades" else f" --interval {interval_min}`")
            )
        if table.num_rows == 0:
            raise InputDataError(
                f"{inst.symbol}: {ds.dir} holds no {name} rows from {iso(since_ns)} to "
                f"{iso(until_ns)}"
            )
        tables.append((inst, ds.dir, table))
    if kind == "trades":
        return _trade_tape(tables)
    return [_bars(inst, where, table, interval_min * 60 * NS) for inst, where, table in tables]


def _units(column: pa.ChunkedArray, inst: Instrument, where: Path) -> array[int]:
    """Exact prices → integer units of the pair's precision (a finer price is refused)."""
    scale = inst.price_decimals
    try:
        exact = pc.cast(column, pa.decimal128(38, scale))
    except pa.ArrowInvalid:
        raise InputDataError(
            f"{inst.symbol}: {where} has prices finer than the pair's {scale} decimals "
            "(not this pair's data?)"
        ) from None
    scaled = pc.round(pc.multiply(pc.cast(exact, pa.float64()), float(10**scale)))
    return array("q", pc.cast(scaled, pa.int64()).to_pylist())


def _bars(inst: Instrument, where: Path, table: pa.Table, width_ns: int) -> BarSeries:
    lot = pa.decimal128(38, inst.lot_decimals)
    try:
        volume = pc.cast(table.column("volume"), lot).to_pylist()
    except pa.ArrowInvalid:
        volume = table.column("volume").to_pylist()
    return BarSeries(
        inst.symbol,
        width_ns,
        array("q", (t * NS for t in table.column("time_s").to_pylist())),
        _units(table.column("open"), inst, where),
        _units(table.column("high"), inst, where),
        _units(table.column("low"), inst, where),
        _units(table.column("close"), inst, where),
        volume,
    )


def _trade_tape(tables: list[tuple[Instrument, Path, pa.Table]]) -> EventTape:
    per_pair: list[list[MarketInput]] = []
    for inst, where, table in tables:
        _units(table.column("price"), inst, where)  # the same check: this pair's prices
        d = table.to_pydict()
        per_pair.append(
            [
                MarketTrade(
                    inst.symbol,
                    Side.BUY if side == "b" else Side.SELL,
                    price.normalize() if price == price.to_integral() else price,
                    qty,
                    OrderType.MARKET if ord_type == "m" else OrderType.LIMIT,
                    trade_id,
                    t,
                    t,
                )
                for t, price, qty, side, ord_type, trade_id in zip(
                    d["time_ns"],
                    d["price"],
                    d["volume"],
                    d["side"],
                    d["ord_type"],
                    d["trade_id"],
                    strict=True,
                )
            ]
        )
    merged = list(heapq.merge(*per_pair, key=lambda e: e.recv_ns))
    return EventTape(merged, synthetic_book=True, symbols=tuple(i.symbol for i, _, _ in tables))


# ---------------------------------------------------------------------------- bundled
def load_bundled(
    instruments: Sequence[Instrument], since_ns: int | None = None, until_ns: int | None = None
) -> list[BarSeries]:
    """The simulator's real day of 1-minute candles (2025-11-10 12:17 → 2025-11-11 00:17 UTC,
    XBT/USDT) for each pair, rescaled so it starts at the pair's simulated start price and
    rounded to its precision, as `run --sim` replays it."""
    text = resources.files("krakenbot.sim").joinpath("data", OHLC_FILE).read_text("utf-8")
    rows = json.loads(text, parse_float=Decimal)["result"]["XBTUSDT"]
    rows = [
        r
        for r in rows
        if (since_ns is None or r[0] * NS >= since_ns)
        and (until_ns is None or r[0] * NS + 60 * NS <= until_ns)
    ]
    if not rows:
        raise InputUsageError(
            "the bundled day covers 2025-11-10T12:17Z → 2025-11-11T00:18Z: "
            "--since/--until leave nothing of it"
        )
    day = load_bars()
    out = []
    for inst in instruments:
        spec = DEFAULT_PAIRS[inst.symbol]
        scale = replay_scale(spec, day)  # the simulator's: its path and this one agree
        o, h, lo, c = (_rescaled(rows, k, scale, inst) for k in (1, 2, 3, 4))
        volume = [(Decimal(r[6]) / scale).quantize(spec.lot_step) for r in rows]
        times = array("q", (int(r[0]) * NS for r in rows))
        out.append(BarSeries(inst.symbol, 60 * NS, times, o, h, lo, c, volume))
    return out


def _rescaled(rows: list[list[str]], k: int, scale: Decimal, inst: Instrument) -> array[int]:
    step = Decimal(1).scaleb(-inst.price_decimals)
    return array("q", (int((Decimal(r[k]) * scale).quantize(step) / step) for r in rows))


__all__ = [
    "BUNDLED_PAIR_NOTE",
    "InputDataError",
    "InputUsageError",
    "instrument_for",
    "load_bundled",
    "load_store",
    "stored_pairs",
]
