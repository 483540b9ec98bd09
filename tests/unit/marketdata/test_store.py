"""The Parquet day store: exact round trips, byte-identical files for the same data, and an
open() that trusts whole files over the manifest and never takes a temp file for data."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from krakenbot.kraken.rest_market import OhlcRow, PublicTrade
from krakenbot.marketdata.ranges import DAY_NS, NS
from krakenbot.marketdata.sink import DaySink
from krakenbot.marketdata.store import Dataset, DayEntry

D = 1762732800 * NS  # 2025-11-10


def _trade(i: int, t: int) -> PublicTrade:
    return PublicTrade(Decimal("0.288347") + i, Decimal("101.01052672"), t, "b", "l", "", 10 + i)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_trades_round_trip_exactly(tmp_path: Path) -> None:
    ds = Dataset(tmp_path, "trades", "XLM/USD").open()
    rows = [_trade(i, D + i * NS) for i in range(3)]
    ds.write_day("2025-11-10", rows, DayEntry([(D, D + DAY_NS)], 3))
    again = Dataset(tmp_path, "trades", "XLM/USD").open()
    assert again.read_day("2025-11-10") == rows
    assert again.coverage() == [(D, D + DAY_NS)]
    table, gaps = again.load_range(D + NS, D + 2 * DAY_NS)
    assert table.column("trade_id").to_pylist() == [11, 12]
    assert gaps == [(D + DAY_NS, D + 2 * DAY_NS)]


def test_candles_round_trip_and_load_by_time(tmp_path: Path) -> None:
    ds = Dataset(tmp_path, "ohlc-1m", "BTC/USD").open()
    d = Decimal
    rows = [
        OhlcRow(D // NS + 60 * i, d(1), d(2), d("0.5"), d("1.5"), d("1.2"), d("3"), 2)
        for i in range(4)
    ]
    ds.write_day("2025-11-10", rows, DayEntry([(D, D + DAY_NS)], 4))
    assert Dataset(tmp_path, "ohlc-1m", "BTC/USD").open().read_day("2025-11-10") == rows
    table, gaps = ds.load_range(D + 60 * NS, D + 180 * NS)
    assert table.column("time_s").to_pylist() == [D // NS + 60, D // NS + 120] and gaps == []


def test_the_same_data_gives_byte_identical_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        sink = DaySink(Dataset(tmp_path / name, "trades", "XLM/USD").open())
        sink.add([_trade(0, D + 5), _trade(1, D + DAY_NS + 5)], (D, D + DAY_NS + 10))
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a == b and len(a) == 3  # two days + manifest


def test_resumed_pages_merge_to_the_same_bytes(tmp_path: Path) -> None:
    rows = [_trade(i, D + i * 1000) for i in range(6)]
    once = DaySink(Dataset(tmp_path / "once", "trades", "XLM/USD").open())
    once.add(rows, (D, D + DAY_NS))
    first = DaySink(Dataset(tmp_path / "twice", "trades", "XLM/USD").open())
    # A full page ends with rows 0-3; the cursor is kept for the resumed run.
    first.add(rows[:4], (D, D + 3000), cursor="c-3")
    resumed_ds = Dataset(tmp_path / "twice", "trades", "XLM/USD").open()
    assert resumed_ds.cursor_at(D + 3000) == "c-3"
    # The resumed page repeats row 3 (same time as the covered end): kept once.
    DaySink(resumed_ds).add(rows[3:], (D + 3000, D + DAY_NS))
    assert _files(tmp_path / "once") == _files(tmp_path / "twice")


def test_open_drops_temp_files_and_believes_whole_files(tmp_path: Path) -> None:
    ds = Dataset(tmp_path, "trades", "XLM/USD").open()
    ds.write_day("2025-11-10", [_trade(0, D)], DayEntry([(D, D + 100)], 1))
    manifest_before = ds.manifest_path.read_text()
    # A newer file renamed into place, the manifest not yet updated (kill -9 in between):
    ds.write_day("2025-11-10", [_trade(0, D), _trade(1, D + 200)], DayEntry([(D, D + 300)], 2))
    ds.manifest_path.write_text(manifest_before)
    (ds.dir / ".tmp-999-2025-11-11.parquet.part").write_bytes(b"half a file")
    (ds.dir / "2025-11-12.parquet").write_bytes(b"PAR1 torn")
    again = Dataset(tmp_path, "trades", "XLM/USD").open()
    assert again.coverage() == [(D, D + 300)]
    assert sorted(p.name for p in again.dir.iterdir()) == ["2025-11-10.parquet", "manifest.json"]
    assert json.loads(again.manifest_path.read_text())["days"]["2025-11-10"]["rows"] == 2
    assert any("2025-11-12.parquet" in note for note in again.repaired)


def test_files_are_zstd_parquet_with_decimal_money(tmp_path: Path) -> None:
    ds = Dataset(tmp_path, "trades", "XLM/USD").open()
    ds.write_day("2025-11-10", [_trade(0, D)], DayEntry([(D, D + 1)], 1))
    meta = pq.ParquetFile(ds.path("2025-11-10")).metadata
    assert meta.row_group(0).column(1).compression == "ZSTD"
    assert str(pq.read_schema(ds.path("2025-11-10")).field("price").type) == "decimal128(38, 18)"
