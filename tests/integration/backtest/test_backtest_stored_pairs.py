"""A pair the simulator does not know, backtested from downloaded data: its rules come from
the `pairs.json` download-data writes beside the data (marketdata/pairs.py); without it the
pair is refused (exit 2), with a corrupt one the data is (exit 1)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.instruments import ADA

from krakenbot.cli import main
from krakenbot.kraken.rest_market import OhlcRow
from krakenbot.marketdata.pairs import PAIRS_FILE, save_pairs
from krakenbot.marketdata.ranges import DAY_NS, NS
from krakenbot.marketdata.store import Dataset, DayEntry

DAY0 = 1_762_732_800 * NS  # 2025-11-10T00:00:00Z
SPAN = ("--since", "2025-11-10", "--until", "2025-11-11")


@pytest.fixture
def market(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """DATA_DIR in a fresh folder, one day of ADA/USD candles in its store."""
    for key in list(os.environ):
        if key.startswith(("KRAKEN_", "STRATEGY", "ALLOWED_PAIRS", "DATA_DIR", "MAX_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    root = tmp_path / "data" / "market"
    ds = Dataset(root, "ohlc-1m", "ADA/USD").open()
    rows = []
    o = Decimal("0.622500")
    for m in range(1440):
        c = Decimal("0.600000") + Decimal(abs((m % 90) - 45)) / Decimal(2000)  # a 3.75 % wave
        hi, lo = max(o, c) + Decimal("0.0001"), min(o, c) - Decimal("0.0001")
        rows.append(OhlcRow(DAY0 // NS + 60 * m, o, hi, lo, c, c, Decimal("5000"), 9))
        o = c
    ds.write_day("2025-11-10", rows, DayEntry([(DAY0, DAY0 + DAY_NS)], len(rows)))
    yield root


def _backtest(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["backtest", "--pairs", "ADA/USD", *SPAN, "--json", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_a_downloaded_pair_outside_the_simulator_is_backtested_with_its_own_rules(
    market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_pairs(market, [ADA])
    code, out, err = _backtest(capsys, "--params", "entry_z=1", "--out", "r")
    assert code == 0, err
    result = json.loads(Path(json.loads(out)["result"]).read_text())
    assert result["market_items"] == 1440 and result["run"]["pairs"] == ["ADA/USD"]
    assert result["summary"]["orders"] > 0  # it traded, at the pair's own precision
    orders = [t for t in result["trades"] if t["pair"] == "ADA/USD"]
    assert orders and all(Decimal(t["entry_price"]) % ADA.tick_size == 0 for t in orders)


def test_without_its_rules_the_pair_is_refused(
    market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _backtest(capsys, "--out", "r")
    assert code == 2 and "ADA/USD" in err and "download-data" in err
    assert not (market.parent.parent / "r").exists()


def test_a_corrupt_rules_file_is_named(market: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (market / PAIRS_FILE).write_text("{not json")
    code, _, err = _backtest(capsys, "--out", "r")
    assert code == 1 and PAIRS_FILE in err
