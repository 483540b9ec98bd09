"""`backtest --sweep`: the grid in a fixed order, the same sweep.json whatever --jobs is
(processes really used), ranked best first, and bad sweeps refused (exit 2)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from krakenbot.app.backtest.sweep import Axis, grid, parse_axes, ranked
from krakenbot.cli import main

SWEEP = ("--data", "bundled", "--sweep", "entry_z=1,2", "--sweep", "take_profit_pct=0.5,1")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith(("KRAKEN_", "STRATEGY", "ALLOWED_PAIRS", "DATA_DIR", "MAX_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    yield tmp_path


def test_the_grid_and_its_parsing() -> None:
    axes = parse_axes(["entry_z=1.5, 2,2", "take_profit_pct=0.5,1"])
    assert axes == [Axis("entry_z", ("1.5", "2")), Axis("take_profit_pct", ("0.5", "1"))]
    assert grid(axes) == [
        {"entry_z": "1.5", "take_profit_pct": "0.5"},
        {"entry_z": "1.5", "take_profit_pct": "1"},
        {"entry_z": "2", "take_profit_pct": "0.5"},
        {"entry_z": "2", "take_profit_pct": "1"},
    ]


def test_ranked_best_return_first_failures_last() -> None:
    rows = [
        {"params": {"a": "1"}, "result": {"total_return": "0.01", "sharpe": 1.0}},
        {"params": {"a": "2"}, "result": {"error": "boom"}},
        {"params": {"a": "3"}, "result": {"total_return": "0.02", "sharpe": None}},
        {"params": {"a": "4"}, "result": {"total_return": "0.01", "sharpe": 2.0}},
        {"params": {"a": "5"}, "result": {"total_return": None, "sharpe": None}},
    ]
    assert [r["params"]["a"] for r in ranked(rows)] == ["3", "4", "1", "5", "2"]
    assert [r["rank"] for r in ranked(rows)] == [1, 2, 3, 4, 5]


def test_the_same_sweep_json_whatever_the_jobs(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backtest", *SWEEP, "--jobs", "1", "--out", "one", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert main(["backtest", *SWEEP, "--jobs", "2", "--out", "two", "--json"]) == 0
    two = json.loads(capsys.readouterr().out)
    assert (one["jobs"], two["jobs"]) == (1, 2)
    assert Path(one["sweep"]).read_bytes() == Path(two["sweep"]).read_bytes()
    doc = json.loads(Path(one["sweep"]).read_text())
    assert doc["combinations"] == 4 and len(doc["results"]) == 4
    assert doc["axes"] == {"entry_z": ["1", "2"], "take_profit_pct": ["0.5", "1"]}
    returns = [r["result"]["total_return"] for r in doc["results"]]
    assert [float(x) for x in returns] == sorted((float(x) for x in returns), reverse=True)
    # Each combination is a real backtest: the single run with its parameters agrees.
    best = doc["results"][0]
    params = ",".join(f"{k}={v}" for k, v in best["params"].items())
    assert main(["backtest", "--data", "bundled", "--params", params, "--out", "s", "--json"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert single["summary"] == best["result"]


@pytest.mark.parametrize(
    ("sweep", "words"),
    [("entry_z", "name=value1"), ("entry_z=abc", "entry_z"), ("nosuch=1,2", "nosuch")],
)
def test_bad_sweeps_exit_2(
    home: Path, capsys: pytest.CaptureFixture[str], sweep: str, words: str
) -> None:
    assert main(["backtest", "--data", "bundled", "--sweep", sweep, "--out", "r"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (home / "r").exists()
