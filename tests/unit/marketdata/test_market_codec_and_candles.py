"""Trades/OHLC pages parsed from real Kraken payloads, and candles rebuilt from real trades
exactly as Kraken's OHLC endpoint reported them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from krakenbot.kraken.rest_market import parse_ohlc, parse_trades
from krakenbot.kraken.rest_values import CodecError, loads
from krakenbot.marketdata.candles import candles_from_trades

DATA = Path(__file__).parents[2] / "data" / "rest"


def _result(name: str) -> Any:
    return loads((DATA / name).read_text(encoding="utf-8"))["result"]


def test_trades_page_keeps_kraken_cursor_and_exact_numbers() -> None:
    page = parse_trades(_result("trades_XBTUSDT_2025-11-10_nautilus.json"))
    assert page.pair_key == "XBTUSDT" and len(page.trades) == 1000
    assert page.last == "1762820035982277754"  # the cursor as sent, not a computed time
    first = page.trades[0]
    assert first.price == Decimal("105433.60000") and first.volume == Decimal("0.00027625")
    assert first.time_ns == 1762795433971744500 and first.side == "b" and first.ord_type == "l"
    assert first.trade_id == 10218208
    times = [t.time_ns for t in page.trades]
    assert times == sorted(times)


def test_trades_page_reads_docs_and_ccxt_shapes() -> None:
    docs = parse_trades(_result("rest_trades_xxbtzusd__docs.json"))
    assert docs.pair_key == "XXBTZUSD" and docs.last == "1688671969993150842"
    ccxt = parse_trades(_result("rest_trades_xbtusdt__ccxt_2024-03.json"))  # 8 elements a row
    assert ccxt.trades[0].trade_id == 6324366 and ccxt.last == "1710327959173746878"


def test_ohlc_page_splits_the_open_candle_off() -> None:
    page = parse_ohlc(_result("ohlc_1m_XBTUSDT_2025-11-10_nautilus.json"))
    assert len(page.committed) == 720 and page.current is not None
    assert page.current.time_s == 1762820220 and page.last == 1762820160
    assert page.committed[-1].time_s == page.last
    docs = parse_ohlc(_result("rest_ohlc_xxbtzusd__docs.json"))
    assert docs.last == 1688672160 and len(docs.committed) == 3


@pytest.mark.parametrize(
    "body",
    [
        {"XBTUSD": [], "last": "not-a-cursor"},
        {"XBTUSD": [["1", "1", 1.0, "x", "m", "", 1]], "last": "1"},
        {"XBTUSD": [["1", "1", 1.0, "b", "m", "", "7"]], "last": "1"},
        {"A": [], "B": [], "last": "1"},
        [],
    ],
)
def test_malformed_trades_are_codec_errors(body: object) -> None:
    with pytest.raises(CodecError):
        parse_trades(loads(json.dumps(body)))


def test_candles_from_real_trades_equal_krakens_ohlc() -> None:
    trades = parse_trades(_result("trades_XBTUSDT_2025-11-10_nautilus.json")).trades
    ohlc = {
        r.time_s: r
        for r in parse_ohlc(_result("ohlc_1m_XBTUSDT_2025-11-10_nautilus.json")).committed
    }
    built = candles_from_trades(trades, 1, price_decimals=1)
    # The tape starts inside a minute (its first candle is partial); the rest are whole.
    compared = [c for c in built[1:] if c.time_s in ohlc]
    assert len(compared) == 273
    for candle in compared:
        assert candle == ohlc[candle.time_s], candle.time_s  # vwap truncated, like Kraken
    assert sum(c.count for c in built) == 1000


def test_candles_of_wider_intervals_are_epoch_aligned() -> None:
    trades = parse_trades(_result("trades_XBTUSDT_2025-11-10_nautilus.json")).trades
    five = candles_from_trades(trades, 5, price_decimals=1)
    assert all(c.time_s % 300 == 0 for c in five)
    assert sum(c.count for c in five) == 1000
    one = candles_from_trades(trades, 1, price_decimals=1)
    assert sum(c.volume for c in five) == sum(c.volume for c in one)
