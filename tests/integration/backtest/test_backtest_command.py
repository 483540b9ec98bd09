"""`krakenbot backtest` end to end: the bundled day, the market-data store, a real recording;
a byte-identical result.json for the same inputs; the ledger read by `trades --db`; and bad
input (missing, corrupt or gapped data, an unknown pair, --since after --until, a strategy
that raises, an unusable --out) refused with a message naming it, exit 2 or 1, no traceback,
and nothing left that looks like a result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from krakenbot.cli import main
from krakenbot.domain.commands import Intent
from krakenbot.domain.events import BookTop, Event
from krakenbot.kraken.rest_market import OhlcRow, PublicTrade
from krakenbot.marketdata.ranges import DAY_NS, NS
from krakenbot.marketdata.store import Dataset, DayEntry
from krakenbot.strategy.base import StrategyView

DAY0 = 1_762_732_800 * NS  # 2025-11-10T00:00:00Z
RECORDING = Path(__file__).parents[2] / "data" / "ws" / "book10_BTCUSD_2023-07-30.jsonl"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with no .env, DATA_DIR inside it, no KRAKEN_/strategy settings inherited."""
    for key in list(os.environ):
        if key.startswith(("KRAKEN_", "STRATEGY", "ALLOWED_PAIRS", "DATA_DIR", "MAX_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    yield tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["backtest", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _nothing_left(parent: Path, name: str) -> None:
    assert not (parent / name).exists()
    assert [p.name for p in parent.glob(f".{name}.*")] == []


def _write_candles(root: Path, days: Sequence[int], *, price: str = "0.290000") -> None:
    ds = Dataset(root, "ohlc-1m", "XLM/USD").open()
    p = Decimal(price)
    for d in days:
        start = DAY0 + d * DAY_NS
        rows = []
        for m in range(1440):
            # A slow wave: enough movement for the strategy to act.
            c = p + Decimal((m % 60) - 30) / Decimal(100000)
            rows.append(
                OhlcRow(
                    start // NS + 60 * m,
                    c,
                    c + Decimal("0.0002"),
                    c - Decimal("0.0002"),
                    c,
                    c,
                    Decimal("1000"),
                    5,
                )
            )
        name = f"2025-11-{10 + d:02d}"
        ds.write_day(name, rows, DayEntry([(start, start + DAY_NS)], len(rows)))


def test_the_bundled_day_end_to_end(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--data", "bundled", "--params", "entry_z=1.5,take_profit_pct=0.5")
    code, out, _ = _run(capsys, *args, "--out", "a", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["summary"]["trades"] >= 1 and doc["summary"]["largest_entry_within_limit"]
    for name in ("result", "ledger", "report"):
        assert Path(doc[name]).is_file()
    assert _run(capsys, *args, "--out", "b", "--json")[0] == 0
    assert (home / "a" / "result.json").read_bytes() == (home / "b" / "result.json").read_bytes()
    # The throwaway ledger has the live schema: the operator's commands read it.
    assert main(["trades", "--db", str(home / "a" / "ledger.db"), "--json"]) == 0
    trades = json.loads(capsys.readouterr().out)
    assert len(trades["trades"]) == doc["summary"]["trades"]
    assert main(["orders", "--db", str(home / "a" / "ledger.db"), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["orders"]) == doc["summary"]["orders"]
    # Running again into the same folder replaces the earlier result whole.
    assert _run(capsys, *args, "--out", "a")[0] == 0
    _nothing_left(home, "zz")


def test_the_market_data_store(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_candles(home / "data" / "market", [0, 1])
    common = ("--pairs", "XLM/USD", "--out", "r", "--json")
    code, out, _ = _run(capsys, *common, "--since", "2025-11-10", "--until", "2025-11-12")
    assert code == 0
    doc = json.loads(out)
    result = json.loads(Path(doc["result"]).read_text())
    assert result["market_items"] == 2 * 1440
    assert result["run"]["data"] == {
        "kind": "ohlc-1m",
        "path": str(home / "data" / "market"),
        "source": "store",
    }


def test_a_real_recording(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--data", str(RECORDING), "--pairs", "BTC/USD", "--json")
    assert code == 0
    doc = json.loads(out)
    result = json.loads(Path(doc["result"]).read_text())
    assert result["market_items"] == 510  # every frame's book verified and replayed
    assert result["span"]["from"].startswith("2023-07-30T15:29")


def test_downloaded_trades(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = Dataset(home / "data" / "market", "trades", "XLM/USD").open()
    start = DAY0
    trades = [
        PublicTrade(
            Decimal("0.290000") + Decimal(i % 7) / 1000000,
            Decimal("50"),
            start + i * 7 * NS,
            "b" if i % 2 else "s",
            "l",
            "",
            1000 + i,
        )
        for i in range(2000)
    ]
    ds.write_day("2025-11-10", trades, DayEntry([(start, start + DAY_NS)], len(trades)))
    code, out, _ = _run(
        capsys,
        "--pairs",
        "XLM/USD",
        "--kind",
        "trades",
        "--since",
        "2025-11-10",
        "--until",
        "2025-11-11",
        "--json",
    )
    assert code == 0
    result = json.loads(Path(json.loads(out)["result"]).read_text())
    assert result["market_items"] == 2000
    assert result["run"]["data"]["kind"] == "trades"


def test_gaps_in_the_store_are_refused(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_candles(home / "data" / "market", [0])
    code, _, err = _run(
        capsys, "--pairs", "XLM/USD", "--since", "2025-11-10", "--until", "2025-11-12", "--out", "r"
    )
    assert code == 1
    assert "XLM/USD" in err and "gaps" in err and "2025-11-11T00:00:00Z" in err
    _nothing_left(home, "r")


def test_missing_and_corrupt_data(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    span = ("--since", "2025-11-10", "--until", "2025-11-11", "--out", "r")
    code, _, err = _run(capsys, "--pairs", "XLM/USD", *span)
    assert code == 1 and "XLM/USD" in err and "does not exist" in err
    _write_candles(home / "data" / "market", [0])
    day = home / "data" / "market" / "ohlc-1m" / "XLM_USD" / "2025-11-10.parquet"
    day.write_bytes(b"not parquet at all")
    code, _, err = _run(capsys, "--pairs", "XLM/USD", *span)
    assert code == 1 and str(day) in err
    assert day.read_bytes() == b"not parquet at all"  # a backtest repairs nothing
    _nothing_left(home, "r")


def test_another_pairs_prices_are_refused(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_candles(home / "data" / "market", [0], price="0.2900001")  # 7 decimals for XLM
    code, _, err = _run(
        capsys, "--pairs", "XLM/USD", "--since", "2025-11-10", "--until", "2025-11-11"
    )
    assert code == 1 and "XLM/USD" in err and "6 decimals" in err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--pairs", "FOO/BAR", "--data", "bundled"), ["unknown pair", "FOO/BAR"]),
        (("--data", "bundled", "--since", "2025-11-11", "--until", "2025-11-10"), ["--since"]),
        (("--data", "bundled", "--strategy", "nosuch"), ["STRATEGY='nosuch'"]),
        (("--data", "bundled", "--params", "entry_z=abc"), ["entry_z"]),
        (("--data", "bundled", "--params", "oops"), ["--params"]),
        (("--data", "bundled", "--fee-tier", "12"), ["fee tier 12"]),
        (("--pairs", "XLM/USD"), ["--since and --until"]),
        (("--data", "no/such/place"), ["no/such/place", "no such file"]),
    ],
)
def test_usage_errors_exit_2(
    home: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], words: list[str]
) -> None:
    code, _, err = _run(capsys, *args, "--out", "r")
    assert code == 2, err
    assert all(w in err for w in words), err
    _nothing_left(home, "r")


def test_an_unusable_out_folder(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "f").write_text("x")
    (home / "busy").mkdir()
    (home / "busy" / "mine.txt").write_text("keep")
    assert _run(capsys, "--data", "bundled", "--out", "f")[0] == 2
    code, _, err = _run(capsys, "--data", "bundled", "--out", "busy")
    assert code == 2 and "other files" in err
    assert (home / "busy" / "mine.txt").read_text() == "keep"


def test_a_recording_that_is_not_one(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = home / "bad.jsonl"
    bad.write_text("this is not json\n")
    code, _, err = _run(capsys, "--data", str(bad), "--pairs", "XLM/USD", "--out", "r")
    assert code == 1 and str(bad) in err
    _nothing_left(home, "r")


class Raiser:
    name = "raiser"
    symbols = frozenset({"XLM/USD"})

    @classmethod
    def from_params(cls, params: object) -> Raiser:
        return cls()

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        if isinstance(event, BookTop) and event.recv_ns >= 1_762_780_000 * NS:
            raise RuntimeError("the strategy broke")
        return []


def test_a_strategy_that_raises(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    strategy = "tests.integration.backtest.test_backtest_command:Raiser"
    code, _, err = _run(capsys, "--data", "bundled", "--strategy", strategy, "--out", "r")
    assert code == 1
    assert "2025-11-10T13:07:00Z" in err and "XLM/USD" in err and "the strategy broke" in err
    assert "test_backtest_command.py" in err  # where it raised
    _nothing_left(home, "r")


def test_as_a_process_no_traceback_and_a_clean_exit(home: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "krakenbot", "backtest", "--data", "bundled", "--pairs", "XX"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "unknown pair 'XX'" in proc.stderr
