"""REST result rendering, written from the Kraken facts (API.md §5), not from any client codec.

Owns: turning exchange state into the JSON-ready `result` objects of Kraken's REST methods:
numbers as fixed-precision strings, times as epoch-second numbers, ids as strings, pair keys
as REST ids, assets as legacy codes. Imports: stdlib and sim.* only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

from krakenbot.sim.exchange import Exchange
from krakenbot.sim.market import Candle, Market, PublicTrade
from krakenbot.sim.model import Fill, SimOrder
from krakenbot.sim.pairs import ASSETS, PairSpec
from krakenbot.sim.prices import render

NS = 1_000_000_000
MAX_OHLC_COMMITTED = 720  # docs get-ohlc-data: "up to 720 of the most recent entries"
Json = dict[str, object]


def price_decimals(spec: PairSpec) -> int:
    """Decimals of market-data prices: the pair's, but at least 5 (docs/real Ticker, Depth,
    Trades and Spread print "30292.10000" for a 1-decimal pair)."""
    return max(spec.pair_decimals, 5)


def fixed(value: Decimal, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def epoch(ns: int) -> float:
    return round(ns / NS, 6)


def rfc3339_s(ns: int) -> str:
    return datetime.fromtimestamp(ns // NS, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def time_result(now_ns: int) -> Json:
    stamp = datetime.fromtimestamp(now_ns // NS, UTC)
    return {"unixtime": now_ns // NS, "rfc1123": stamp.strftime("%a, %d %b %y %H:%M:%S +0000")}


def system_status(state: str, now_ns: int) -> Json:
    return {"status": state, "timestamp": rfc3339_s(now_ns)}


def assets_result(codes: list[str]) -> Json:
    out: Json = {}
    for code in codes:
        spec = ASSETS[code]
        row: Json = {
            "aclass": "currency",
            "altname": "XBT" if code == "BTC" else code,
            "decimals": spec.decimals,
            "display_decimals": spec.display_decimals,
        }
        if spec.collateral_value is not None:
            row["collateral_value"] = spec.collateral_value
        row["status"] = "enabled"
        out[spec.legacy] = row
    return out


def _fees(table: tuple[tuple[int, Decimal], ...]) -> list[list[object]]:
    return [[vol, float(pct)] for vol, pct in table]


def asset_pair(spec: PairSpec, info: str) -> Json:
    base, quote = ASSETS[spec.base].legacy, ASSETS[spec.quote].legacy
    if info == "leverage":
        return {"leverage_buy": list(spec.leverage), "leverage_sell": list(spec.leverage)}
    if info == "fees":
        return {"fees": _fees(spec.taker_fees), "fee_volume_currency": "ZUSD"}
    if info == "margin":
        return {"margin_call": 80, "margin_level": 40}
    return {
        "altname": spec.altname,
        "wsname": spec.wsname,
        "aclass_base": "currency",
        "base": base,
        "aclass_quote": "currency",
        "quote": quote,
        "lot": "unit",
        "cost_decimals": spec.cost_decimals,
        "pair_decimals": spec.pair_decimals,
        "lot_decimals": spec.lot_decimals,
        "lot_multiplier": 1,
        "leverage_buy": list(spec.leverage),
        "leverage_sell": list(spec.leverage),
        "fees": _fees(spec.taker_fees),
        "fees_maker": _fees(spec.maker_fees),
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": str(spec.ordermin),
        "costmin": str(spec.costmin),
        "tick_size": str(spec.tick_size),
        "status": spec.status,
        "long_position_limit": spec.long_position_limit,
        "short_position_limit": spec.short_position_limit,
    }


def ticker(m: Market) -> Json:
    spec = m.spec
    pd, ld = price_decimals(spec), spec.lot_decimals
    ask = m.asks.best() or m.mid
    bid = m.bids.best() or m.mid
    return {
        "a": [fixed(ask, pd), "1", "1.000"],
        "b": [fixed(bid, pd), "1", "1.000"],
        "c": [fixed(m.last_price, pd), fixed(m.last_qty, ld)],
        "v": [fixed(m.volume, ld), fixed(m.volume, ld)],
        "p": [fixed(m.vwap, pd), fixed(m.vwap, pd)],
        "t": [m.trade_count, m.trade_count],
        "l": [fixed(m.low, pd), fixed(m.low, pd)],
        "h": [fixed(m.high, pd), fixed(m.high, pd)],
        "o": fixed(m.open_price, pd),
    }


def _ohlc_row(c: Candle, pd: int, ld: int) -> list[object]:
    # Kraken's vwap is truncated to the pair's precision, and "0.0" for a candle without
    # trades (shared/data/kraken/rest/ohlc_1m_*: 273 of 273 traded minutes, 216 empty ones).
    vwap = (c.notional / c.volume) if c.volume else Decimal(0)
    return [
        c.begin_ns // NS,
        fixed(c.open, pd),
        fixed(c.high, pd),
        fixed(c.low, pd),
        fixed(c.close, pd),
        fixed(vwap.quantize(Decimal(1).scaleb(-pd), rounding=ROUND_DOWN), pd),
        fixed(c.volume, ld),
        c.count,
    ]


def ohlc_rows(
    spec: PairSpec, committed: list[Candle], current: Candle, since_s: int | None
) -> tuple[list[list[object]], int]:
    """OHLC `result` rows and `last`: the committed candles after `since`, then the open one
    (always present, docs); `last` is the last committed candle's time."""
    pd, ld = spec.pair_decimals, spec.lot_decimals
    rows = [
        _ohlc_row(c, pd, ld) for c in committed if since_s is None or c.begin_ns // NS > since_s
    ]
    rows.append(_ohlc_row(current, pd, ld))
    last = committed[-1].begin_ns // NS if committed else since_s or 0
    return rows, last


def ohlc(
    m: Market, interval: int, since_s: int | None, now_ns: int
) -> tuple[list[list[object]], int]:
    """The live market's candles: at most 720 committed ones and the open one."""
    candles = m.candles_for(interval, now_ns)[-(MAX_OHLC_COMMITTED + 1) :]
    return ohlc_rows(m.spec, candles[:-1], candles[-1], since_s)


def depth(m: Market, count: int, now_ns: int) -> Json:
    pd = price_decimals(m.spec)
    ld = m.spec.lot_decimals
    ts = m.last_change_ns // NS

    def side(levels: list[tuple[Decimal, Decimal]]) -> list[list[object]]:
        return [[fixed(p, pd), fixed(q, ld), ts] for p, q in levels]

    return {"asks": side(m.asks.top(count)), "bids": side(m.bids.top(count))}


def trade_rows(spec: PairSpec, trades: list[PublicTrade]) -> list[list[object]]:
    """Trades `result` rows: `[price, volume, time, "b"|"s", "m"|"l", misc, trade_id]`."""
    pd = price_decimals(spec)
    ld = spec.lot_decimals
    return [
        [
            fixed(t.price, pd),
            fixed(t.qty, ld),
            round(t.time_ns / NS, 7),
            t.side[0],
            t.ord_type[0],
            "",
            t.trade_id,
        ]
        for t in trades
    ]


def add_order_descr(o: SimOrder) -> Json:
    """AddOrder's `descr`: the order text, and `close` when a conditional close is attached
    (docs example: `"close": "close position @ stop loss 22000.0 -> limit 21000.0"`)."""
    out: Json = {"order": o.descr()}
    if o.close_text:
        out["close"] = o.close_text
    return out


def edit_result(new: SimOrder, original: SimOrder, *, validate: bool) -> Json:
    """EditOrder's result (docs example): the new order's txid, the original's, the new
    volume and prices as text, how many orders were cancelled, the new order's text."""
    price, price2 = _descr_prices(new)
    out: Json = {"status": "ok"}
    if not validate:
        out["txid"] = new.txid
    out.update(
        originaltxid=original.txid,
        volume=fixed(new.vol, new.pair.lot_decimals),
        price=price,
        price2=price2,
        orders_cancelled=0 if validate else 1,
        descr={"order": new.descr()},
    )
    return out


def _descr_prices(o: SimOrder) -> tuple[str, str]:
    """`descr.price` / `descr.price2`: the limit or trigger price (a trailing order's offsets
    as written, e.g. "+50.0000%"), "0" when none. A triggered stop-limit shows the limit order
    it became (docs ClosedOrders example: stop-loss-limit, price "23667.0", price2 "0")."""
    pd = o.pair.pair_decimals
    if o.triggered_ns is not None and o.limit is not None:
        return fixed(o.limit, pd), "0"
    first = render(o.price_arg, pd) if o.price_arg is not None else "0"
    second = render(o.price2_arg, pd) if o.price2_arg is not None else "0"
    return first, second


def _limitprice(o: SimOrder) -> Decimal:
    """`limitprice`: the triggered limit of a *-limit order; for a trailing stop waiting to
    trigger, the peak it trails (a real buy trailing stop at +50% shows limitprice 0.50527
    and stopprice 0.75790 = 0.50527 x 1.5); else 0."""
    if o.triggered_ns is not None and o.limit is not None:
        return o.limit
    if o.waiting and o.peak is not None:
        return o.peak
    return Decimal(0)


def order(o: SimOrder, *, with_trades: bool) -> Json:
    spec = o.pair
    pd, ld = spec.pair_decimals, spec.lot_decimals
    qd = ASSETS[spec.quote].decimals
    price, price2 = _descr_prices(o)
    misc = sorted(o.misc)
    if o.vol_exec and o.vol_exec < o.vol:
        misc.insert(0, "partial")
    out: Json = {
        "refid": o.refid,
        # Kraken prints 0 when no client id was given and null when cl_ord_id was used.
        "userref": o.userref if o.userref is not None else (None if o.cl_ord_id else 0),
        "cl_ord_id": o.cl_ord_id,
        "status": o.status,
        "opentm": epoch(o.opentm_ns),
        "starttm": epoch(o.start_ns) if o.start_ns else 0,
        "expiretm": epoch(o.expire_ns) if o.expire_ns else 0,
        "descr": {
            "pair": spec.altname,
            "aclass": "forex",
            "type": o.side,
            "ordertype": o.ordertype,
            "price": price,
            "price2": price2,
            "leverage": "none",
            "order": o.descr(),
            "close": o.close_text,
        },
        "vol": fixed(o.vol, ld),
        "vol_exec": fixed(o.vol_exec, ld),
        "cost": fixed(o.cost, qd),
        "fee": fixed(o.fee, qd),
        "price": fixed(o.avg_price, pd),
        "stopprice": fixed(o.stop if o.stop is not None else Decimal(0), pd),
        "limitprice": fixed(_limitprice(o), pd),
        "misc": ",".join(misc),
        "oflags": o.oflags(),
        "time_in_force": o.tif.lower(),
    }
    if o.is_trigger:
        out["trigger"] = o.trigger_ref  # docs ClosedOrders example: "trigger": "index"
    if o.cl_ord_id is None:
        del out["cl_ord_id"]
    if not o.is_open:
        out["reason"] = o.reason
        out["closetm"] = epoch(o.closetm_ns or o.opentm_ns)
    if with_trades and o.trades:
        out["trades"] = list(o.trades)
    return out


def trade(f: Fill) -> Json:
    spec = f.pair
    qd = ASSETS[spec.quote].decimals
    return {
        "ordertxid": f.ordertxid,
        "postxid": f.postxid,
        "pair": spec.rest_id,
        "time": epoch(f.time_ns),
        "type": f.side,
        "ordertype": f.ordertype,
        "price": fixed(f.price, max(spec.pair_decimals, 5)),
        "cost": fixed(f.cost, qd),
        "fee": fixed(f.fee, qd),
        "vol": fixed(f.vol, spec.lot_decimals),
        "margin": fixed(Decimal(0), qd),
        "misc": "",
        "trade_id": f.trade_id,
        "maker": f.maker,
    }


def balance(ex: Exchange) -> Json:
    out: Json = {}
    for code, amount in ex.balances.items():
        spec = ASSETS.get(code)
        if spec:
            out[spec.legacy] = fixed(amount, spec.decimals)
    return out


def balance_ex(ex: Exchange) -> Json:
    holds = ex.holds()
    out: Json = {}
    for code, amount in ex.balances.items():
        spec = ASSETS.get(code)
        if spec:
            out[spec.legacy] = {
                "balance": fixed(amount, spec.decimals),
                "hold_trade": fixed(holds.get(code, Decimal(0)), spec.decimals),
            }
    return out


def trade_balance(ex: Exchange) -> Json:
    total = Decimal(0)
    for code, amount in ex.balances.items():
        if code == "USD":
            total += amount
            continue
        for m in ex.markets.values():
            if m.spec.base == code and m.spec.quote == "USD":
                total += amount * m.mid
                break
    text = fixed(total, 4)
    zero = "0.0000"
    return {
        "eb": text,
        "tb": text,
        "m": zero,
        "n": zero,
        "c": zero,
        "v": zero,
        "e": text,
        "mf": text,
        "ml": zero,
    }
