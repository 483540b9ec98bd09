"""Candles from public trades, by Kraken's own rules (pure).

Owns: `candles_from_trades`. Kraken's OHLC candle of N minutes begins at an epoch multiple of
N minutes; open/close are its first/last trade, high/low the extremes, volume the sum,
count the number of trades and vwap the volume-weighted price truncated (not rounded) to the
pair's price precision. Checked against the real captures in shared/data/kraken/rest/: the
1-minute candles rebuilt from the 1000 real XBT/USDT trades equal Kraken's OHLC rows for all
273 minutes both cover (tests/unit/marketdata). Minutes without trades produce no candle
here (Kraken's OHLC repeats the previous close with volume 0 for them; the store keeps only
candles with trades, see marketdata/store.py).
Must not import: I/O, the clock, anything above `kraken`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

from krakenbot.kraken.rest_market import OhlcRow, PublicTrade

NS = 1_000_000_000


def candles_from_trades(
    trades: Iterable[PublicTrade], interval_min: int, price_decimals: int
) -> list[OhlcRow]:
    """Candles of `interval_min` minutes from trades in time order."""
    width_s = interval_min * 60
    step = Decimal(1).scaleb(-price_decimals)
    out: list[OhlcRow] = []
    bucket: list[PublicTrade] = []
    begin = -1

    def close_bucket() -> None:
        if not bucket:
            return
        prices = [t.price for t in bucket]
        volume = sum((t.volume for t in bucket), Decimal(0))
        notional = sum((t.price * t.volume for t in bucket), Decimal(0))
        vwap = (notional / volume).quantize(step, rounding=ROUND_DOWN) if volume else Decimal(0)
        out.append(
            OhlcRow(
                begin, prices[0], max(prices), min(prices), prices[-1], vwap, volume, len(bucket)
            )
        )

    for trade in trades:
        t_s = trade.time_ns // NS
        b = t_s - t_s % width_s
        if b != begin:
            close_bucket()
            bucket = []
            begin = b
        bucket.append(trade)
    close_bucket()
    return out
