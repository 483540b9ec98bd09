"""`python -m krakenbot download-data` as a real process against krakenbot.sim (127.0.0.1):
the bundled day in full, nothing fetched twice, resuming after a partial or killed run with
byte-identical results, the public rate limit kept, and bad input refused without a traceback.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.eventually import eventually

from krakenbot.marketdata.pairs import load_pairs
from krakenbot.marketdata.ranges import DAY_NS, NS
from krakenbot.marketdata.store import Dataset
from krakenbot.sim import Sim, SimConfig, running_sim
from krakenbot.sim.pairs import DEFAULT_PAIRS
from krakenbot.sim.ratelimit import PublicCounter

D = 1762732800 * NS  # 2025-11-10T00:00:00Z
DAY = ("--since", "2025-11-10", "--until", "2025-11-11")
PAIRS = ("--pairs", "XLM/USD,BTC/USD")


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async with running_sim(SimConfig(feed="replay")) as running:
        running.control.pause_feed()
        yield running


def _env(sim: Sim, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "DATA_DIR"))}
    env.update({"KRAKEN_REST_URL": sim.rest_url, "DATA_DIR": str(data_dir)})
    return env


async def _start(sim: Sim, data_dir: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "krakenbot",
        "download-data",
        *args,
        env=_env(sim, data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def download(sim: Sim, data_dir: Path, *args: str) -> tuple[int, str, str]:
    proc = await _start(sim, data_dir, *args)
    async with asyncio.timeout(120):
        out, err = await proc.communicate()
    assert "Traceback" not in err.decode(), err.decode()
    return proc.returncode or 0, out.decode(), err.decode()


def _files(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".download.lock")
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def _calls(sim: Sim) -> list[tuple[str, str, str]]:
    return [(m, p.get("pair", ""), p.get("since", "")) for m, p, _ in sim.state.history_calls]


async def test_the_bundled_day_downloads_in_full(sim: Sim, tmp_path: Path) -> None:
    code, out, _ = await download(sim, tmp_path, *PAIRS, *DAY, "--kind", "trades", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [p["pair"] for p in doc["pairs"]] == ["XLM/USD", "BTC/USD"]
    assert all(p["not_covered"] == [] for p in doc["pairs"])
    code, out, _ = await download(sim, tmp_path, *PAIRS, *DAY, "--json")  # --kind ohlc
    assert code == 0 and json.loads(out)["pairs"][0]["dataset"] == "ohlc-1m"
    market = tmp_path / "market"
    for symbol in ("XLM/USD", "BTC/USD"):
        spec = sim.state.exchange.index.resolve(symbol)
        assert spec is not None
        history = sim.state.history.pair(spec)
        want = [
            (t.price, t.qty, t.time_ns, t.trade_id)
            for t in history.trades
            if D <= t.time_ns < D + DAY_NS
        ]
        got = Dataset(market, "trades", symbol).open().read_day("2025-11-10")
        assert [(t.price, t.volume, t.time_ns, t.trade_id) for t in got] == want
        assert len(want) > 900  # the tape runs to 00:13 on the 11th
        committed, _ = sim.state.history.ohlc(spec, 1)
        candles = Dataset(market, "ohlc-1m", symbol).open()
        assert candles.coverage() == [(D, D + DAY_NS)]
        expected = [
            (c.begin_ns // NS, c.open, c.high, c.low, c.close, c.volume, c.count)
            for c in committed
            if c.count and c.begin_ns < D + DAY_NS
        ]
        rows = candles.read_day("2025-11-10")
        assert [(r.time_s, r.open, r.high, r.low, r.close, r.volume, r.count) for r in rows] == (
            expected
        )
    assert sim.state.public_counters.refused == 0
    # The pairs' rules, from AssetPairs, beside the data: what a backtest of them reads.
    rules = load_pairs(market)
    assert sorted(rules) == ["BTC/USD", "XLM/USD"]
    for symbol, inst in rules.items():
        served = DEFAULT_PAIRS[symbol].instrument()
        assert (inst.tick_size, inst.ordermin, inst.costmin, inst.lot_decimals) == (
            served.tick_size,
            served.ordermin,
            served.costmin,
            served.lot_decimals,
        )


async def test_a_rerun_fetches_nothing_and_changes_no_byte(sim: Sim, tmp_path: Path) -> None:
    assert (await download(sim, tmp_path, *PAIRS, *DAY, "--json"))[0] == 0
    before = _files(tmp_path)
    sim.state.history_calls.clear()
    code, out, _ = await download(sim, tmp_path, *PAIRS, *DAY, "--json")
    assert code == 0 and _calls(sim) == []
    assert all(p["files_written"] == 0 for p in json.loads(out)["pairs"])
    assert _files(tmp_path) == before
    # ... and another store, downloaded afresh, is byte for byte the same.
    assert (await download(sim, tmp_path / "other", *PAIRS, *DAY, "--json"))[0] == 0
    assert _files(tmp_path / "other") == before


async def test_extending_a_partial_run_fetches_only_the_rest(sim: Sim, tmp_path: Path) -> None:
    trades = ("--kind", "trades", "--json", "--pairs", "BTC/USD", "--since", "2025-11-10")
    assert (await download(sim, tmp_path / "once", *trades, "--until", "2025-11-11"))[0] == 0
    first = await download(sim, tmp_path / "twice", *trades, "--until", "2025-11-10T20:00")
    assert first[0] == 0
    sim.state.history_calls.clear()
    assert (await download(sim, tmp_path / "twice", *trades, "--until", "2025-11-11"))[0] == 0
    eight_pm = D + 20 * 3600 * NS
    assert _calls(sim) == [("Trades", "XXBTZUSD", str(eight_pm - NS))]  # from 20:00 on
    assert _files(tmp_path / "twice") == _files(tmp_path / "once")


async def test_kill_9_mid_download_then_resume(sim: Sim, tmp_path: Path) -> None:
    args = (*PAIRS, *DAY, "--kind", "trades", "--json")
    assert (await download(sim, tmp_path / "clean", *args))[0] == 0
    sim.state.faults.latency_s = 1.0  # every REST answer takes a second
    proc = await _start(sim, tmp_path / "killed", *args)
    xlm = tmp_path / "killed" / "market" / "trades" / "XLM_USD"
    manifest = xlm / "manifest.json"

    def xlm_done() -> bool:
        return manifest.exists() and "2025-11-10" in manifest.read_text()

    await eventually(xlm_done, 60, "XLM/USD's day written")
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    sim.state.faults.latency_s = 0.0
    # Nothing half-written looks like data: every *.parquet is a whole file the manifest knows.
    for parquet in (tmp_path / "killed").rglob("*.parquet"):
        manifest = json.loads((parquet.parent / "manifest.json").read_text())
        assert parquet.stem in manifest["days"]
    sim.state.history_calls.clear()
    assert (await download(sim, tmp_path / "killed", *args))[0] == 0
    assert {pair for _, pair, _ in _calls(sim)} == {"XXBTZUSD"}  # XLM/USD was complete
    assert _files(tmp_path / "killed") == _files(tmp_path / "clean")


async def test_the_public_rate_limit_is_kept(sim: Sim, tmp_path: Path) -> None:
    # A strict budget: one call, refilled in 0.8 s. The client paces at 1 s per pair.
    sim.state.public_counters = PublicCounter(burst=Decimal(1), per_s=Decimal("1.25"))
    code, _, _ = await download(sim, tmp_path, *PAIRS, *DAY, "--json")  # OHLC, then Trades
    assert code == 0
    assert sim.state.public_counters.refused == 0
    by_pair: dict[str, list[int]] = {}
    for _method, params, at in sim.state.history_calls:
        by_pair.setdefault(params["pair"], []).append(at)
    assert sorted(by_pair) == ["XXBTZUSD", "XXLMZUSD"]
    for times in by_pair.values():
        assert len(times) >= 2
        assert all(b - a >= 0.8 * NS for a, b in itertools.pairwise(times))


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        ((*PAIRS, "--since", "2025-11-11", "--until", "2025-11-10"), 2, "is not before"),
        (("--pairs", "FOO/USD", *DAY), 2, "'FOO/USD'"),
        ((*PAIRS, "--since", "last tuesday"), 2, "last tuesday"),
        ((*PAIRS, "--since", "2099-01-01"), 2, "is not before"),
        ((*PAIRS, *DAY, "--interval", "7"), 2, "--interval"),
        ((*PAIRS, *DAY, "--kind", "book"), 2, "--kind"),
    ],
)
async def test_bad_input_is_a_usage_error(
    sim: Sim, tmp_path: Path, args: tuple[str, ...], code: int, words: str
) -> None:
    got, out, err = await download(sim, tmp_path, *args)
    assert (got, out) == (code, "")
    assert words in err


async def test_an_unwritable_data_dir_fails_naming_it(sim: Sim, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    got, out, err = await download(sim, blocker / "data", *PAIRS, *DAY)
    assert got == 1 and out == ""
    assert str(blocker / "data" / "market") in err
