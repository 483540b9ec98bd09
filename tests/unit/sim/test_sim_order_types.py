"""The simulator's Kraken order types, pure core: triggers on last / index price, relative
and percentage prices, trailing stops that follow the price, icebergs, conditional close,
viqc / fcib, scheduled starts and GTD limits (REST parameters; docs rest-api/add-order)."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest

from krakenbot.sim.exchange import Exchange
from krakenbot.sim.model import SimOrder
from krakenbot.sim.order_params import parse_rest_order
from krakenbot.sim.pairs import make_pairs
from krakenbot.sim.prices import (
    PriceArg,
    fires,
    passive_sign,
    render,
    resolve,
    rest_price,
    trailing_stop,
    ws_price,
)
from krakenbot.sim.ratelimit import TIERS
from krakenbot.sim.wire_rest import add_order_descr, order

NS = 1_000_000_000
TICK = D("0.000001")


def exchange(**balances: str) -> Exchange:
    funds = {k: D(v) for k, v in (balances or {"USD": "1000", "XLM": "1000"}).items()}
    return Exchange(make_pairs(("XLM/USD", "BTC/USD")), TIERS["pro"], funds, random.Random(3), 0)


def add(ex: Exchange, now_ns: int = 0, **params: object) -> SimOrder:
    req = parse_rest_order({"pair": "XLMUSD", **params}, ex.index, now_ns)
    assert not isinstance(req, str), req
    placed, err = ex.add_order(req, now_ns)
    assert err is None and placed is not None, err
    return placed


def refused(ex: Exchange, now_ns: int = 0, **params: object) -> str:
    req = parse_rest_order({"pair": "XLMUSD", **params}, ex.index, now_ns)
    if isinstance(req, str):
        return req
    placed, err = ex.add_order(req, now_ns)
    assert placed is None and err is not None
    return err


def trade_at(ex: Exchange, mid: str, now_ns: int, side: str = "sell") -> None:
    """Move the book to `mid` and print a market trade there (the new last price)."""
    ex.set_mid("XLM/USD", D(mid), now_ns)
    ex.feed_trade("XLM/USD", now_ns, side=side, qty=D("5"))


# -- prices and trigger rules ----------------------------------------------------------------
def test_price_forms_and_their_text() -> None:
    assert rest_price("+50.0000%") == PriceArg(D("50.0000"), "+", True)
    assert rest_price("#2") == PriceArg(D("2"), "#")
    assert rest_price("0.28") == PriceArg(D("0.28"))
    for bad in ("50%", "", "1e3", "--1", "abc", None, True):
        assert rest_price(bad) is None
    assert ws_price("-1.5", "pct") == PriceArg(D("1.5"), "-", True)
    assert ws_price("0.3", None) == PriceArg(D("0.3"))
    assert ws_price("-0.3", "static") is None and ws_price("1", "mark") is None
    assert render(PriceArg(D("50"), "+", True), 5) == "+50.0000%"
    assert render(PriceArg(D("0.05"), "-"), 5) == "-0.05000"


def test_relative_prices_resolve_against_the_reference() -> None:
    ref = D("0.290000")
    assert resolve(PriceArg(D("1"), "-", True), ref, 1, TICK) == D("0.287100")
    assert resolve(PriceArg(D("0.01"), "+"), ref, -1, TICK) == D("0.300000")
    assert resolve(PriceArg(D("0.01"), "#"), ref, -1, TICK) == D("0.280000")
    # The real trailing stop: +50% of 0.50527 shows stopprice 0.75790 (half-even, 5 dp).
    assert trailing_stop("buy", D("0.50527"), PriceArg(D("50"), "+", True), D("0.00001")) == D(
        "0.75790"
    )
    assert passive_sign("buy", "limit") == -1 and passive_sign("sell", "limit") == 1
    assert passive_sign("buy", "stop-loss") == 1 and passive_sign("sell", "stop-loss-limit") == -1
    assert passive_sign("buy", "take-profit") == -1 and passive_sign("sell", "take-profit") == 1


@pytest.mark.parametrize(
    ("ordertype", "side", "ref", "fired"),
    [
        ("stop-loss", "sell", "0.27", True),
        ("stop-loss", "sell", "0.29", False),
        ("stop-loss", "buy", "0.29", True),
        ("take-profit", "sell", "0.29", True),
        ("take-profit", "sell", "0.27", False),
        ("take-profit-limit", "buy", "0.27", True),
        ("trailing-stop", "sell", "0.28", True),
    ],
)
def test_stops_fire_from_the_unfavourable_side_take_profits_from_the_favourable(
    ordertype: str, side: str, ref: str, fired: bool
) -> None:
    assert fires(ordertype, side, D("0.28"), D(ref)) is fired


# -- orders in the core ----------------------------------------------------------------------
def test_a_stop_loss_waits_open_and_fires_on_the_last_trade() -> None:
    ex = exchange()
    stop = add(ex, type="sell", ordertype="stop-loss", volume="100", price="0.285")
    assert stop.status == "open" and stop.waiting and not stop.on_book
    assert ex.holds() == {"XLM": D("100")}  # a trigger order holds its funds too
    row = order(stop, with_trades=False)
    assert row["descr"]["order"] == "sell 100.00000000 XLMUSD @ stop loss 0.285000"  # type: ignore[index]
    assert row["stopprice"] == "0.285000" and row["trigger"] == "last"
    ex.set_mid("XLM/USD", D("0.28"), NS)  # the book moves, nothing trades: last stays
    assert stop.waiting
    ex.feed_trade("XLM/USD", NS, side="sell", qty=D("5"))
    assert stop.status == "closed" and stop.vol_exec == D("100") and stop.misc == {"stopped"}
    assert all(f.price < D("0.285") for f in ex.fills if f.ordertxid == stop.txid)


def test_a_stop_loss_limit_becomes_a_resting_limit_shown_as_such() -> None:
    ex = exchange()
    sll = add(
        ex, type="sell", ordertype="stop-loss-limit", volume="50", price="0.285", price2="0.284"
    )
    assert add_order_descr(sll) == {
        "order": "sell 50.00000000 XLMUSD @ stop loss 0.285000 -> limit 0.284000"
    }
    trade_at(ex, "0.28", NS)
    assert sll.status == "open" and sll.on_book and sll.price == D("0.284000")
    row = order(sll, with_trades=False)
    descr = row["descr"]
    assert isinstance(descr, dict)
    assert (descr["price"], descr["price2"]) == ("0.284000", "0")
    assert descr["order"] == "sell 50.00000000 XLMUSD @ limit 0.284000"
    assert (row["stopprice"], row["limitprice"]) == ("0.285000", "0.284000")
    assert ex.markets["XLM/USD"].asks.own == {D("0.284000"): D("50")}


def test_a_trailing_stop_follows_the_price_then_fires() -> None:
    ex = exchange()
    ts = add(ex, type="sell", ordertype="trailing-stop", volume="100", price="+1%")
    assert (ts.peak, ts.stop) == (D("0.290000"), D("0.287100"))
    descr = order(ts, with_trades=False)["descr"]
    assert isinstance(descr, dict) and descr["price"] == "+1.0000%"
    trade_at(ex, "0.30", NS, side="buy")
    assert ts.waiting and ts.peak is not None and ts.peak > D("0.30")
    assert ts.stop == (ts.peak * D("0.99")).quantize(TICK)
    trade_at(ex, "0.298", 2 * NS, side="buy")  # a small dip: the peak stays, no fire
    assert ts.waiting
    trade_at(ex, "0.29", 3 * NS)
    assert ts.status == "closed" and ts.misc == {"stopped"}


def test_a_trailing_stop_limit_sets_its_limit_off_the_trigger() -> None:
    ex = exchange()
    tsl = add(
        ex,
        type="sell",
        ordertype="trailing-stop-limit",
        volume="40",
        price="+0.010000",
        price2="-0.5%",
    )
    assert tsl.stop == D("0.280000")
    trade_at(ex, "0.279", NS)
    assert tsl.triggered_ns == NS and tsl.limit == D("0.278600")  # 0.28 - 0.5%
    assert refused(ex, type="sell", ordertype="trailing-stop", volume="40", price="0.01") == (
        "EGeneral:Invalid arguments:price"
    )
    assert refused(
        ex, type="sell", ordertype="trailing-stop-limit", volume="40", price="+1", price2="0.2"
    ) == ("EGeneral:Invalid arguments:price2")


def test_index_triggers_watch_the_index_not_the_last_trade() -> None:
    ex = exchange()
    tp = add(ex, type="sell", ordertype="take-profit", volume="40", price="0.300", trigger="index")
    ex.markets["XLM/USD"].index_price = D("0.301")
    ex.cross("XLM/USD", NS)
    assert tp.triggered_ns == NS and tp.misc == {"touched"}
    assert ex.markets["XLM/USD"].last_price < D("0.300")  # the last trade never got there


def test_relative_limit_prices_resolve_when_placed() -> None:
    ex = exchange()
    below = add(ex, type="buy", ordertype="limit", volume="40", price="-1%")
    hashed = add(ex, type="sell", ordertype="limit", volume="40", price="#0.01")
    assert below.price == D("0.287100") and hashed.price == D("0.300000")
    assert below.descr() == "buy 40.00000000 XLMUSD @ limit 0.287100"


def test_iceberg_shows_its_slice_and_refills() -> None:
    ex = exchange()
    ice = add(ex, type="sell", ordertype="iceberg", volume="300", displayvol="100", price="0.29001")
    book = ex.markets["XLM/USD"].asks
    assert book.own == {D("0.290010"): D("100")}
    ex.drain()
    ex.feed_trade("XLM/USD", NS, side="buy", qty=D("100"))
    assert ice.vol_exec == D("100") and book.own == {D("0.290010"): D("100")}
    assert [e.exec_type for e in ex.drain() if hasattr(e, "exec_type")][-1] == "iceberg_refill"
    too_small = {"type": "sell", "ordertype": "iceberg", "volume": "300", "price": "0.3"}
    assert refused(ex, displayvol="10", **too_small) == "EGeneral:Invalid arguments:displayvol"


def test_conditional_close_is_placed_when_the_parent_fills() -> None:
    ex = exchange()
    parent = add(
        ex,
        type="buy",
        ordertype="limit",
        volume="40",
        price="0.289",
        userref="7",
        **{"close[ordertype]": "stop-loss-limit", "close[price]": "0.27", "close[price2]": "0.269"},
    )
    assert add_order_descr(parent) == {
        "order": "buy 40.00000000 XLMUSD @ limit 0.289000",
        "close": "close position @ stop loss 0.270000 -> limit 0.269000",
    }
    assert [o for o in ex.open.values() if o.refid] == []
    ex.set_mid("XLM/USD", D("0.285"), NS)  # crosses the buy: it fills
    assert parent.status == "closed"
    (child,) = [o for o in ex.open.values() if o.refid == parent.txid]
    assert (child.side, child.ordertype, child.vol, child.stop, child.limit) == (
        "sell",
        "stop-loss-limit",
        D("40"),
        D("0.270000"),
        D("0.269000"),
    )
    assert child.userref == 7 and order(child, with_trades=False)["refid"] == parent.txid
    with_id = {"type": "buy", "ordertype": "limit", "volume": "40", "price": "0.28"}
    close = {"close[ordertype]": "limit", "close[price]": "0.3"}
    assert refused(ex, cl_ord_id="kbabc", **with_id, **close) == (
        "EGeneral:Invalid arguments:cl_ord_id"
    )
    assert refused(ex, **with_id, **{"close[ordertype]": "market", "close[price]": "1"}) == (
        "EGeneral:Invalid arguments:close[ordertype]"
    )


def test_viqc_buys_for_a_quote_amount_and_fcib_charges_the_fee_in_base() -> None:
    ex = exchange()
    viqc = add(ex, type="buy", ordertype="market", volume="10", oflags="viqc")
    assert viqc.status == "closed" and viqc.cost <= D("10") and viqc.vol > 0
    assert viqc.descr() == "buy 10.00000 XLMUSD @ market"
    assert refused(ex, type="sell", ordertype="market", volume="10", oflags="viqc") == (
        "EGeneral:Invalid arguments:oflags"
    )
    before = ex.balances["XLM"]
    sold = add(ex, type="sell", ordertype="market", volume="40", oflags="fcib")
    fee = ex.fills[-1].fee
    assert ex.fills[-1].fee_asset == "XLM" and sold.oflags() == "fcib"
    assert ex.balances["XLM"] == before - D("40") - fee
    assert refused(ex, type="sell", ordertype="market", volume="40", oflags="fcib,fciq") == (
        "EGeneral:Invalid arguments:oflags"
    )


def test_scheduled_start_and_gtd_limits() -> None:
    ex = exchange()
    later = add(ex, type="buy", ordertype="limit", volume="40", price="0.28", starttm="+60")
    assert later.status == "pending" and not later.on_book
    assert order(later, with_trades=False)["starttm"] == 60.0
    ex.on_time(59 * NS)
    assert later.status == "pending"
    ex.on_time(60 * NS)
    assert later.status == "open" and later.on_book
    gtd = {
        "type": "buy",
        "ordertype": "limit",
        "volume": "40",
        "price": "0.28",
        "timeinforce": "GTD",
    }
    assert refused(ex, expiretm="+3", **gtd) == "EGeneral:Invalid arguments:expiretm"
    assert refused(ex, expiretm=f"+{40 * 86400}", **gtd) == "EGeneral:Invalid arguments:expiretm"
    expiring = add(ex, expiretm="+5", **gtd)
    ex.on_time(5 * NS)
    assert expiring.status == "expired"


def test_the_spot_account_refuses_margin_and_settle_position() -> None:
    ex = exchange()
    plain = {"type": "buy", "volume": "40"}
    assert refused(ex, ordertype="limit", price="0.28", leverage="2", **plain) == (
        "EOrder:Cannot open position"
    )
    assert (
        refused(ex, ordertype="settle-position", **plain) == "EGeneral:Invalid arguments:leverage"
    )
    assert refused(ex, ordertype="market", reduce_only="true", **plain) == (
        "EOrder:Reduce only:No position exists"
    )
    assert refused(ex, ordertype="stop-loss", **plain) == "EGeneral:Invalid arguments:price"
    assert refused(ex, ordertype="stop-loss-limit", price="0.3", **plain) == (
        "EGeneral:Invalid arguments:price2"
    )
