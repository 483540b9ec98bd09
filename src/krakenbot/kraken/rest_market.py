"""Kraken's public market-history REST results, `Trades` and `OHLC`, as typed pages (pure).

Owns: `TradesPage` / `PublicTrade`, `OhlcPage` / `OhlcRow` and their parsers. Must not
import: I/O, the clock, layers above `domain`.
Facts (docs api-reference/market-data/get-recent-trades and get-ohlc-data; API.md §5.1;
vectors/real_messages/rest_trades_*, rest_ohlc_*, shared/data/kraken/rest/*_nautilus.json):
- Trades rows are `[price, volume, time, "b"|"s", "m"|"l", misc, trade_id]` (ccxt's 2024
  capture adds an 8th element, the row's own cursor: ignored); prices and volumes are strings,
  `time` an epoch-seconds number; `last` is the paging cursor, a nanosecond-ish id *string*
  that is not always the last row's time (the ccxt capture differs by 0.4 ms): page on it as
  given, never on a time we compute.
- OHLC rows are `[time, open, high, low, close, vwap, volume, count]` (time and count
  integers); the LAST row is the current, not-yet-committed candle and is always present;
  `last` is the time of the last committed one (an int; ccxt saw a string: both accepted).
  At most 720 committed rows, the most recent ones, whatever `since` asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from krakenbot.kraken.rest_values import CodecError, codec_boundary, dec, epoch_ns

TRADE_SIDES = frozenset({"b", "s"})
TRADE_TYPES = frozenset({"m", "l"})


@dataclass(frozen=True, slots=True)
class PublicTrade:
    price: Decimal
    volume: Decimal
    time_ns: int
    side: str  # taker side: "b" | "s"
    ord_type: str  # taker's order type: "m" | "l"
    misc: str
    trade_id: int


@dataclass(frozen=True, slots=True)
class TradesPage:
    pair_key: str  # the REST result key, e.g. "XXBTZUSD"
    trades: tuple[PublicTrade, ...]  # oldest first, as Kraken sends them
    last: str  # the cursor for the next page's `since`


@dataclass(frozen=True, slots=True)
class OhlcRow:
    time_s: int  # candle begin, epoch seconds
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    vwap: Decimal
    volume: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class OhlcPage:
    pair_key: str
    committed: tuple[OhlcRow, ...]  # oldest first
    current: OhlcRow | None  # the still-open candle (Kraken always sends one)
    last: int  # time of the last committed candle; the next page's `since`


def _single_pair(result: Any, what: str) -> tuple[str, list[Any], Any]:
    if not isinstance(result, dict) or "last" not in result:
        raise CodecError(f"{what}: expected an object with 'last'")
    keys = [k for k in result if k != "last"]
    if len(keys) != 1 or not isinstance(result[keys[0]], list):
        raise CodecError(f"{what}: expected exactly one pair's rows")
    return keys[0], result[keys[0]], result["last"]


def _trade(row: list[Any]) -> PublicTrade:
    side, ord_type = str(row[3]), str(row[4])
    if side not in TRADE_SIDES or ord_type not in TRADE_TYPES:
        raise CodecError(f"Trades: unknown side/type {side!r}/{ord_type!r}")
    trade_id = row[6]
    if isinstance(trade_id, bool) or not isinstance(trade_id, int):
        raise CodecError("Trades: trade_id is not an integer")
    return PublicTrade(
        price=dec(row[0]),
        volume=dec(row[1]),
        time_ns=epoch_ns(row[2]),
        side=side,
        ord_type=ord_type,
        misc=str(row[5]),
        trade_id=trade_id,
    )


@codec_boundary("Trades")
def parse_trades(result: Any) -> TradesPage:
    key, rows, last = _single_pair(result, "Trades")
    cursor = str(last)
    if not cursor.isdigit():
        raise CodecError("Trades: 'last' is not a cursor")
    return TradesPage(key, tuple(_trade(r) for r in rows), cursor)


def _ohlc_row(row: list[Any]) -> OhlcRow:
    time_s, count = row[0], row[7]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (time_s, count)):
        raise CodecError("OHLC: time and count must be integers")
    return OhlcRow(
        time_s, dec(row[1]), dec(row[2]), dec(row[3]), dec(row[4]), dec(row[5]), dec(row[6]), count
    )


@codec_boundary("OHLC")
def parse_ohlc(result: Any) -> OhlcPage:
    key, rows, last = _single_pair(result, "OHLC")
    parsed = tuple(_ohlc_row(r) for r in rows)
    last_s = int(str(last))
    return OhlcPage(key, parsed[:-1], parsed[-1] if parsed else None, last_s)
