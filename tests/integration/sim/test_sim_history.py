"""The simulator's public market history: the bundled day at its own timestamps, served by
`Trades` and `OHLC` with Kraken's paging, next to the live market of `run --sim`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from simtest_helpers import RestClient

from krakenbot.sim import Sim, SimConfig, running_sim

REAL = Path(__file__).parents[2] / "data" / "rest"
DAY_S = 1762732800  # 2025-11-10T00:00:00Z
NS = 1_000_000_000


@pytest.fixture
async def hsim() -> AsyncIterator[Sim]:
    # The replay feed, as `run --sim` uses it; no public limit here (one test has it on).
    async with running_sim(SimConfig(feed="replay", public_rate_limit=False)) as running:
        running.control.pause_feed()
        yield running


@pytest.fixture
def hrest(hsim: Sim, session: aiohttp.ClientSession) -> RestClient:
    return RestClient(session, hsim.rest_url, hsim.api_key, hsim.api_secret)


def _real(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))["result"]


async def _result(rest: RestClient, method: str, **params: Any) -> dict[str, Any]:
    body = await rest.public(method, **params)
    assert body["error"] == [], body
    return body["result"]  # type: ignore[no-any-return]


async def test_trades_page_through_the_bundled_day_by_cursor(hrest: RestClient) -> None:
    real = _real("trades_XBTUSDT_2025-11-10_nautilus.json")["XBTUSDT"]
    seen: list[list[Any]] = []
    cursor = str(DAY_S)  # epoch seconds are accepted as a first cursor
    for _ in range(20):
        page = await _result(hrest, "Trades", pair="XBTUSD", since=cursor, count=300)
        rows = page["XXBTZUSD"]
        assert isinstance(page["last"], str) and page["last"].isdigit()
        history = [r for r in rows if r[2] < 1762900000]
        seen.extend(history)
        if len(history) < len(rows) or not rows:
            break
        assert int(page["last"]) > int(cursor)
        cursor = page["last"]
    assert len(seen) == 1000  # every real trade, once, in order, at its real time
    assert [r[2] for r in seen] == [r[2] for r in real]
    assert [r[6] for r in seen] == [r[6] for r in real]
    assert [(r[3], r[4]) for r in seen] == [(r[3], r[4]) for r in real]
    assert all(len(r) == 7 and isinstance(r[0], str) and isinstance(r[6], int) for r in seen)


async def test_trades_without_since_are_the_most_recent(hrest: RestClient, hsim: Sim) -> None:
    for _ in range(3):
        hsim.control.market_trade("BTC/USD", "buy", Decimal("0.001"))
    page = await _result(hrest, "Trades", pair="XBTUSD", count=5)
    rows = page["XXBTZUSD"]
    assert [r[2] > 1762900000 for r in rows] == [False, False, True, True, True]  # live: now
    first = await _result(hrest, "Trades", pair="XBTUSD", since=0, count=2)
    assert [r[6] for r in first["XXBTZUSD"]] == [10218208, 10218209]  # since=0: the start
    bad = await hrest.public("Trades", pair="XBTUSD", count=0)
    assert bad["error"] == ["EGeneral:Invalid arguments:count"]


async def test_ohlc_inside_the_history_answers_as_kraken_did(hrest: RestClient) -> None:
    real = _real("ohlc_1m_XBTUSDT_2025-11-10_nautilus.json")
    page = await _result(hrest, "OHLC", pair="XBTUSD", since=DAY_S)
    rows = page["XXBTZUSD"]
    assert page["last"] == real["last"] == 1762820160
    assert [r[0] for r in rows] == [r[0] for r in real["XBTUSDT"]]  # 720 committed + open
    assert [r[7] for r in rows] == [r[7] for r in real["XBTUSDT"]]
    empty = [r for r in rows if r[7] == 0]
    assert empty and all(r[5] == "0.0" and r[6] == "0.00000000" for r in empty)
    later = await _result(hrest, "OHLC", pair="XBTUSD", since=1762819800)
    assert [r[0] for r in later["XXBTZUSD"]] == [1762819860 + 60 * i for i in range(7)]
    five = await _result(hrest, "OHLC", pair="XBTUSD", since=DAY_S, interval=5)
    assert all(r[0] % 300 == 0 for r in five["XXBTZUSD"])
    assert sum(r[7] for r in five["XXBTZUSD"]) == sum(r[7] for r in rows)


async def test_ohlc_without_since_is_the_live_market(hrest: RestClient, hsim: Sim) -> None:
    hsim.control.tick_feed(5)
    page = await _result(hrest, "OHLC", pair="XLMUSD")
    rows = page["XXLMZUSD"]
    now_s = hsim.state.now_ns() // NS
    assert rows and abs(rows[-1][0] - now_s) < 120  # the open candle is now's
    assert len(rows) <= 721


async def test_history_calls_are_limited_per_ip_and_pair(session: aiohttp.ClientSession) -> None:
    async with running_sim(SimConfig()) as sim:  # the public limit is on by default
        rest = RestClient(session, sim.rest_url, sim.api_key, sim.api_secret)
        answers = [
            (await rest.public("Trades", pair=p, since=0))["error"]
            for p in ("XBTUSD", "XXBTZUSD", "BTC/USD", "XLMUSD")
        ]
        assert answers == [[], [], ["EGeneral:Too many requests"], []]
        assert sim.state.public_counters.refused == 1
        assert (await rest.public("Ticker", pair="XBTUSD"))["error"] == []  # not limited
