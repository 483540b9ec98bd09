"""The local market-data store: one Parquet file per pair and UTC day, plus a manifest.

Owns: the layout under `DATA_DIR/market/`, the two table schemas, crash-safe writing (temp
file, fsync, rename; the manifest the same way, after the data), reading a day back, the
manifest's repair at open (`open_read_only` repairs nothing), and `load_range` for the
backtest. Imports: pyarrow, stdlib,
kraken.rest_market (row types) and marketdata.ranges.

Layout: `DATA_DIR/market/<dataset>/<PAIR>/<YYYY-MM-DD>.parquet` and `manifest.json` beside
them; `<dataset>` is `trades` or `ohlc-<N>m`, `<PAIR>` the WS v2 name with `_` (`BTC_USD`).
Each file says in its own footer (key `krakenbot`) which parts of its day it covers
(`ranges`, half-open ns) and how many rows it holds: data the exchange had in a covered range
is all there (a covered minute without a candle had no trade). The manifest repeats those
entries for a quick look; a file is the truth for its day (it is renamed into place whole,
so a kill -9 leaves either the old file or the new one, never a torn one, and a temp file
that is never taken for data). Same rows and ranges give byte-identical files and manifest.

Why Parquet (pyarrow): columnar and typed, so a backtest reads 180 days x 4 pairs of
1-minute candles (about a million rows) straight into arrays at some 375,000 bars a second
including the cast to float64 (benchmarks/bench_market_load.py), with exact decimal128
prices and volumes (never floats), zstd-compressed; one file per day keeps a resumed or
extended download to rewriting one small file.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from krakenbot.kraken.rest_market import OhlcRow, PublicTrade
from krakenbot.marketdata.ranges import Range, day_name, day_of_name, days, normalize, subtract

FORMAT = 1
META_KEY = b"krakenbot"
MONEY = pa.decimal128(38, 18)
TRADES_SCHEMA = pa.schema(
    [
        ("time_ns", pa.int64()),
        ("price", MONEY),
        ("volume", MONEY),
        ("side", pa.string()),
        ("ord_type", pa.string()),
        ("misc", pa.string()),
        ("trade_id", pa.int64()),
    ]
)
CANDLES_SCHEMA = pa.schema(
    [
        ("time_s", pa.int64()),
        ("open", MONEY),
        ("high", MONEY),
        ("low", MONEY),
        ("close", MONEY),
        ("vwap", MONEY),
        ("volume", MONEY),
        ("count", pa.int64()),
    ]
)
_TMP = ".tmp-"


class StoreError(Exception):
    """A store file that cannot be read or written; the message names the file."""


def dataset_name(kind: str, interval_min: int = 1) -> str:
    return "trades" if kind == "trades" else f"ohlc-{interval_min}m"


def pair_dir_name(symbol: str) -> str:
    return symbol.replace("/", "_")


@dataclass(slots=True)
class DayEntry:
    ranges: list[Range]
    rows: int
    cursors: dict[str, str] = field(default_factory=dict)  # range end (ns) → Trades cursor

    def to_json(self) -> dict[str, Any]:
        return {
            "cursors": dict(sorted(self.cursors.items())),
            "ranges": [list(r) for r in self.ranges],
            "rows": self.rows,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DayEntry:
        ranges = [(int(a), int(b)) for a, b in doc["ranges"]]
        cursors = {str(k): str(v) for k, v in dict(doc.get("cursors") or {}).items()}
        return cls(normalize(ranges), int(doc["rows"]), cursors)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def replace_atomically(path: Path, write: Any) -> None:
    """Write through `write(tmp_path)`, flush it to disk, then rename over `path`."""
    tmp = path.with_name(f"{_TMP}{os.getpid()}-{path.name}.part")  # never a `*.parquet`
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _trades_table(rows: Sequence[PublicTrade]) -> pa.Table:
    return pa.table(
        [
            pa.array([r.time_ns for r in rows], pa.int64()),
            pa.array([r.price for r in rows], MONEY),
            pa.array([r.volume for r in rows], MONEY),
            pa.array([r.side for r in rows], pa.string()),
            pa.array([r.ord_type for r in rows], pa.string()),
            pa.array([r.misc for r in rows], pa.string()),
            pa.array([r.trade_id for r in rows], pa.int64()),
        ],
        schema=TRADES_SCHEMA,
    )


def _candles_table(rows: Sequence[OhlcRow]) -> pa.Table:
    cols: list[pa.Array] = [pa.array([r.time_s for r in rows], pa.int64())]
    for name in ("open", "high", "low", "close", "vwap", "volume"):
        cols.append(pa.array([getattr(r, name) for r in rows], MONEY))
    cols.append(pa.array([r.count for r in rows], pa.int64()))
    return pa.table(cols, schema=CANDLES_SCHEMA)


def _trades_rows(table: pa.Table) -> list[PublicTrade]:
    d = table.to_pydict()
    return [
        PublicTrade(Decimal(p), Decimal(v), t, s, o, m, i)
        for t, p, v, s, o, m, i in zip(
            d["time_ns"],
            d["price"],
            d["volume"],
            d["side"],
            d["ord_type"],
            d["misc"],
            d["trade_id"],
            strict=True,
        )
    ]


def _candle_rows(table: pa.Table) -> list[OhlcRow]:
    d = table.to_pydict()
    return [
        OhlcRow(t, o, h, lo, c, w, v, n)
        for t, o, h, lo, c, w, v, n in zip(
            d["time_s"],
            d["open"],
            d["high"],
            d["low"],
            d["close"],
            d["vwap"],
            d["volume"],
            d["count"],
            strict=True,
        )
    ]


class Dataset:
    """One pair's files of one kind (`trades` or candles of one interval)."""

    def __init__(self, root: Path, dataset: str, symbol: str) -> None:
        self.dataset = dataset
        self.symbol = symbol
        self.is_trades = dataset == "trades"
        self.dir = root / dataset / pair_dir_name(symbol)
        self.manifest_path = self.dir / "manifest.json"
        self.days: dict[str, DayEntry] = {}
        self.repaired: list[str] = []  # what open() found wrong and dropped, for the report

    # -- opening -------------------------------------------------------------------------
    def open(self) -> Dataset:
        """Create the folder, drop temp files, and make the manifest agree with the files."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for stray in self.dir.glob(f"{_TMP}*"):
            with contextlib.suppress(OSError):
                stray.unlink()
        listed = self._read_manifest()
        found: dict[str, DayEntry] = {}
        for path in sorted(self.dir.glob("*.parquet")):
            try:
                day_of_name(path.stem)
                found[path.stem] = self._footer(path)
            except (StoreError, ValueError):
                self.repaired.append(f"{path.name}: unreadable, fetched again")
                path.unlink()
        if found != listed:
            self.days = found
            self._write_manifest()
        self.days = found
        return self

    def open_read_only(self) -> Dataset:
        """The files as they are, for reading (a backtest): nothing is created, repaired or
        removed; a file that cannot be read is a `StoreError` naming it."""
        if not self.dir.is_dir():
            raise StoreError(f"no {self.dataset} data for {self.symbol}: {self.dir} does not exist")
        for path in sorted(self.dir.glob("*.parquet")):
            try:
                day_of_name(path.stem)
            except ValueError:
                raise StoreError(f"{path}: not a day file (YYYY-MM-DD.parquet)") from None
            self.days[path.stem] = self._footer(path)
        return self

    def _read_manifest(self) -> dict[str, DayEntry]:
        try:
            doc = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            return {k: DayEntry.from_json(v) for k, v in doc["days"].items()}
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError):
            self.repaired.append("manifest.json: unreadable, rebuilt from the files")
            return {}

    def _footer(self, path: Path) -> DayEntry:
        try:
            meta = pq.read_schema(path).metadata or {}
            doc = json.loads(meta[META_KEY])
            if doc.get("format") != FORMAT or doc.get("dataset") != self.dataset:
                raise StoreError(f"{path}: not a {self.dataset} file of this format")
            return DayEntry.from_json(doc)
        except (OSError, KeyError, ValueError, TypeError, pa.ArrowException) as exc:
            raise StoreError(f"{path}: {exc}") from exc

    def _write_manifest(self) -> None:
        doc = {
            "dataset": self.dataset,
            "days": {k: self.days[k].to_json() for k in sorted(self.days)},
            "format": FORMAT,
            "pair": self.symbol,
        }
        text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
        replace_atomically(self.manifest_path, lambda p: p.write_text(text, encoding="utf-8"))

    # -- coverage ------------------------------------------------------------------------
    def coverage(self) -> list[Range]:
        return normalize([r for e in self.days.values() for r in e.ranges])

    def cursor_at(self, at_ns: int) -> str | None:
        entry = self.days.get(day_name(at_ns))
        return None if entry is None else entry.cursors.get(str(at_ns))

    # -- reading and writing days --------------------------------------------------------
    def path(self, day: str) -> Path:
        return self.dir / f"{day}.parquet"

    def read_day(self, day: str) -> list[Any]:
        if day not in self.days:
            return []
        table = self._read_table(self.path(day))
        return _trades_rows(table) if self.is_trades else _candle_rows(table)

    def _read_table(self, path: Path) -> pa.Table:
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{path}: {exc}") from exc

    def write_day(self, day: str, rows: Sequence[Any], entry: DayEntry) -> None:
        """Replace one day's file and then its manifest entry (both atomically)."""
        table = _trades_table(rows) if self.is_trades else _candles_table(rows)
        meta = {"dataset": self.dataset, "format": FORMAT, "pair": self.symbol}
        meta.update(entry.to_json())
        table = table.replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True)})
        replace_atomically(
            self.path(day),
            lambda p: pq.write_table(table, p, compression="zstd", compression_level=9),
        )
        self.days[day] = entry
        self._write_manifest()

    # -- loading for research ------------------------------------------------------------
    def load_range(self, start_ns: int, end_ns: int) -> tuple[pa.Table, list[Range]]:
        """Rows with times in [start, end) as one table, and the parts of the range the store
        does not cover (a backtest must refuse or report them: they are gaps, not calm)."""
        tables = []
        for day in days(start_ns, end_ns):
            name = day_name(day)
            if name in self.days and self.days[name].rows:
                tables.append(self._read_table(self.path(name)).replace_schema_metadata(None))
        schema = TRADES_SCHEMA if self.is_trades else CANDLES_SCHEMA
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        column, scale = ("time_ns", 1) if self.is_trades else ("time_s", 1_000_000_000)
        times = table.column(column)
        mask = pc.and_(
            pc.greater_equal(times, start_ns // scale),
            pc.less(times, -(-end_ns // scale)),
        )
        return table.filter(mask), subtract((start_ns, end_ns), self.coverage())


def datasets(root: Path, dataset: str) -> Iterator[str]:
    """Pair folder names that hold `dataset` under `root` (for listings)."""
    base = root / dataset
    if base.is_dir():
        yield from sorted(p.name for p in base.iterdir() if p.is_dir())
