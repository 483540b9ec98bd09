"""WebSocket v2 message rendering, written from the Kraken facts (API.md §7), not from any
client codec.

Owns: building the JSON-ready dicts of every v2 push and ack: numbers are `orjson.Fragment`s
holding fixed-precision text (Kraken prints `0.10000000`, and book checksums depend on it),
timestamps are RFC3339 with microseconds (`ohlc.interval_begin` with nanoseconds).
Imports: orjson, stdlib and sim.* only (orjson is a pure encoder, no I/O).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

import orjson

from krakenbot.sim.book import FORMAT_CACHE, book_checksum
from krakenbot.sim.market import MINUTE_NS, Candle, Market, PublicTrade
from krakenbot.sim.pairs import ASSETS, PairSpec

NS = 1_000_000_000
Json = dict[str, object]
F = orjson.Fragment
VERSION = "2.0.10"


@lru_cache(maxsize=FORMAT_CACHE)
def fixed(value: Decimal, decimals: int) -> str:
    """Fixed-precision text; cached because book levels repeat from one update to the next."""
    return f"{value:.{decimals}f}"


def num(value: Decimal, decimals: int) -> orjson.Fragment:
    return F(fixed(value, decimals))


@lru_cache(maxsize=4)
def _second(secs: int) -> str:
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def ts(ns: int) -> str:
    """RFC3339 UTC with 6 fractional digits, e.g. 2023-09-22T10:33:05.709950Z."""
    secs, rem = divmod(ns, NS)
    return f"{_second(secs)}.{rem // 1000:06d}Z"


def ts9(ns: int) -> str:
    secs, rem = divmod(ns, NS)
    base = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{rem:09d}Z"


def ack(
    method: str,
    result: object,
    req_id: object,
    t_in: int,
    t_out: int,
    *,
    error: str | None = None,
    symbol: str | None = None,
) -> Json:
    msg: Json = {"method": method}
    if error is not None:
        msg = {"error": error, "method": method, "success": False}
        if symbol is not None:
            msg["symbol"] = symbol
    else:
        msg["result"] = result
        msg["success"] = True
    msg["time_in"] = ts(t_in)
    msg["time_out"] = ts(t_out)
    if req_id is not None:
        msg["req_id"] = req_id
    return msg


def status(system: str, connection_id: int) -> Json:
    return {
        "channel": "status",
        "type": "update",
        "data": [
            {
                "version": VERSION,
                "system": system,
                "api_version": "v2",
                "connection_id": connection_id,
            }
        ],
    }


# -- market data ---------------------------------------------------------------------------
def ticker(m: Market, kind: str, now_ns: int) -> Json:
    spec = m.spec
    pd, ld = spec.pair_decimals, spec.lot_decimals
    ask = m.asks.best() or m.mid
    bid = m.bids.best() or m.mid
    change = m.last_price - m.open_price
    pct = (change / m.open_price * 100) if m.open_price else Decimal(0)
    return {
        "channel": "ticker",
        "type": kind,
        "data": [
            {
                "symbol": spec.symbol,
                "bid": num(bid, pd),
                "bid_qty": num(m.bids.levels.get(bid, Decimal(0)), ld),
                "ask": num(ask, pd),
                "ask_qty": num(m.asks.levels.get(ask, Decimal(0)), ld),
                "last": num(m.last_price, pd),
                "volume": num(m.volume, ld),
                "vwap": num(m.vwap, pd),
                "low": num(m.low, pd),
                "high": num(m.high, pd),
                "change": num(change, pd),
                "change_pct": num(pct, 2),
                "timestamp": ts(now_ns),
            }
        ],
    }


def level_text(spec: PairSpec, levels: list[tuple[Decimal, Decimal]]) -> list[tuple[str, str]]:
    pd, ld = spec.pair_decimals, spec.lot_decimals
    return [(fixed(p, pd), fixed(q, ld)) for p, q in levels]


def book_msg(
    symbol: str,
    kind: str,
    *,
    asks: list[tuple[str, str]],
    bids: list[tuple[str, str]],
    checksum: int,
    now_ns: int,
) -> Json:
    return {
        "channel": "book",
        "type": kind,
        "data": [
            {
                "symbol": symbol,
                "bids": [{"price": F(p), "qty": F(q)} for p, q in bids],
                "asks": [{"price": F(p), "qty": F(q)} for p, q in asks],
                "checksum": checksum,
                "timestamp": ts(now_ns),
            }
        ],
    }


def checksum_of(
    spec: PairSpec, asks: list[tuple[Decimal, Decimal]], bids: list[tuple[Decimal, Decimal]]
) -> int:
    return book_checksum(level_text(spec, asks[:10]), level_text(spec, bids[:10]))


def trade_row(spec: PairSpec, t: PublicTrade) -> Json:
    return {
        "symbol": spec.symbol,
        "side": t.side,
        "price": num(t.price, spec.pair_decimals),
        "qty": num(t.qty, spec.lot_decimals),
        "ord_type": t.ord_type,
        "trade_id": t.trade_id,
        "timestamp": ts(t.time_ns),
    }


def ohlc_row(spec: PairSpec, c: Candle, interval: int) -> Json:
    pd, ld = spec.pair_decimals, spec.lot_decimals
    return {
        "symbol": spec.symbol,
        "open": num(c.open, pd),
        "high": num(c.high, pd),
        "low": num(c.low, pd),
        "close": num(c.close, pd),
        "trades": c.count,
        "volume": num(c.volume, ld),
        "vwap": num(c.vwap, pd),
        "interval_begin": ts9(c.begin_ns),
        "interval": interval,
        "timestamp": ts(c.begin_ns + interval * MINUTE_NS),
    }


def instrument(pairs: list[PairSpec], system: str) -> Json:
    codes = sorted({c for p in pairs for c in (p.base, p.quote)})
    assets = [
        {
            "id": code,
            "status": "enabled",
            "precision": ASSETS[code].decimals,
            "precision_display": ASSETS[code].display_decimals,
            "borrowable": False,  # spot only: no margin (hence no `margin_rate`, as for
            "collateral_value": F("1.0" if code == "USD" else "0.0"),  # real USDT.M [roq])
            "class": "currency",
        }
        for code in codes
    ]
    rows: list[Json] = []
    for p in pairs:
        row: Json = {
            "symbol": p.symbol,
            "base": p.base,
            "quote": p.quote,
            "status": p.status if system == "online" else system,
            "qty_precision": p.lot_decimals,
            "qty_increment": num(p.lot_step, p.lot_decimals),
            "price_precision": p.pair_decimals,
            "cost_precision": p.cost_decimals,
            "marginable": bool(p.leverage),
            "has_index": True,
            "ws_display_price_precision": p.pair_decimals,  # = price_precision [roq 2026]
            "cost_min": F(str(p.costmin)),
        }
        if p.leverage:
            row["margin_initial"] = F("0.2")
            row["position_limit_long"] = p.long_position_limit
            row["position_limit_short"] = p.short_position_limit
        row["tick_size"] = num(p.tick_size, p.pair_decimals)
        row["price_increment"] = num(p.tick_size, p.pair_decimals)
        row["qty_min"] = num(p.ordermin, p.lot_decimals)
        rows.append(row)
    return {"channel": "instrument", "type": "snapshot", "data": {"assets": assets, "pairs": rows}}


def dumps(msg: object) -> str:
    return orjson.dumps(msg).decode()
