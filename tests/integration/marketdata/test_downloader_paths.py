"""The downloader in this process against krakenbot.sim: candles from OHLC and from trades on
both sides of the bundled day, the live end of the tape, and the command's own exit paths."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from krakenbot.cli import build_parser
from krakenbot.clock import SystemClock
from krakenbot.commands import download_data
from krakenbot.lock import InstanceLock
from krakenbot.marketdata.download import LIVE_MARGIN_NS, Downloader, Request
from krakenbot.marketdata.ranges import DAY_NS, NS
from krakenbot.net.rest_client import RestClient, RestConfig
from krakenbot.sim import Sim, SimConfig, running_sim

D = 1762732800 * NS  # 2025-11-10T00:00:00Z


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async with running_sim(SimConfig(feed="replay")) as running:
        running.control.pause_feed()
        yield running


@pytest.fixture
async def client(sim: Sim, tmp_path: Path) -> AsyncIterator[RestClient]:
    config = RestConfig(state_dir=tmp_path / "state", base_url=sim.rest_url)
    async with RestClient(config, None, clock=SystemClock(), rng=random.Random(1)) as rest:
        yield rest


async def test_candles_span_history_gap_and_live_market(
    sim: Sim, client: RestClient, tmp_path: Path
) -> None:
    advanced: list[int] = []
    loader = Downloader(client, tmp_path / "market", advanced.append)
    insts = await client.asset_pairs()
    req = Request(insts["BTC/USD"], "ohlc", 1, D, D + 2 * DAY_NS)
    ds, tds = loader.open(req)
    result = await loader.run(req, ds, tds)
    assert result.missing == [] and ds.coverage() == [(D, D + 2 * DAY_NS)]
    assert sum(advanced) == 2 * DAY_NS
    assert sorted(result.days_written) == ["2025-11-10", "2025-11-11"]
    day1 = ds.read_day("2025-11-10")
    assert len(day1) == 495 and all(r.count > 0 for r in day1)
    # The candles before the OHLC window (before 12:17) were asked of the trades store:
    assert tds is not None and tds.coverage()[0][0] == D
    spec = sim.state.exchange.index.resolve("BTC/USD")
    assert spec is not None
    calls = [(m, p.get("since")) for m, p, _ in sim.state.history_calls]
    assert calls[0] == ("OHLC", str(D // NS - 1)) and ("Trades", str(D - NS)) in calls


async def test_the_live_end_is_not_claimed_up_to_now(
    sim: Sim, client: RestClient, tmp_path: Path
) -> None:
    for _ in range(5):
        sim.control.market_trade("XLM/USD", "sell", Decimal(50))
    now = sim.state.now_ns()
    loader = Downloader(client, tmp_path / "market", lambda _: None)
    insts = await client.asset_pairs()
    req = Request(insts["XLM/USD"], "trades", 1, now - 600 * NS, now + 60 * NS)
    ds, _ = loader.open(req)
    result = await loader.run(req, ds, None)
    (covered,) = ds.coverage()
    server_now = (await client.server_time()).unixtime * NS
    assert covered[0] == now - 600 * NS
    assert server_now - LIVE_MARGIN_NS - 2 * NS <= covered[1] <= server_now - LIVE_MARGIN_NS
    assert result.missing == [(covered[1], now + 60 * NS)]
    # The five trades are newer than the covered part: the next run fetches them again.
    assert result.rows_added == 0


def _args(*argv: str) -> object:
    return build_parser().parse_args(["download-data", *argv])


async def test_the_command_in_process(
    sim: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KRAKEN_REST_URL", sim.rest_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    day = ("--since", "2025-11-10", "--until", "2025-11-11")
    ok = _args("--pairs", "XBTUSD", *day, "--kind", "trades")
    assert await download_data.run(ok) == 0  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert out.startswith("BTC/USD: ") and "new rows" in out
    again = _args("--pairs", "XBT/USD,BTC/USD", *day, "--kind", "trades", "--json")
    assert await download_data.run(again) == 0  # type: ignore[arg-type]
    doc = json.loads(capsys.readouterr().out)
    assert [p["pair"] for p in doc["pairs"]] == ["BTC/USD"]  # two names, one pair
    assert doc["pairs"][0]["rows_added"] == 0
    for argv, code in (
        (("--pairs", "NOPE", *day), 2),
        (("--pairs", " , ", *day), 2),
        (("--pairs", "XBTUSD", "--since", "2025-11-11", "--until", "2025-11-10"), 2),
    ):
        assert await download_data.run(_args(*argv)) == code  # type: ignore[arg-type]
    lock_dir = tmp_path / "data" / "market"
    with InstanceLock(lock_dir / ".download.lock"):
        busy = _args("--pairs", "XBTUSD", *day)
        assert await download_data.run(busy) == 1  # type: ignore[arg-type]
    assert "already writing" in capsys.readouterr().err
