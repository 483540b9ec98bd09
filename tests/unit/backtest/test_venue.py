"""The backtest venue: Kraken's order lifecycle against candles, prints and recorded books,
each thing at its own moment (latency, the candle's path, GTD), with fees by tier."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.instruments import XLM

from krakenbot.backtest.venue import BacktestVenue
from krakenbot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from krakenbot.domain.enums import ExecType, Liquidity, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import (
    AmendRejected,
    BalanceChange,
    BookTop,
    CancelRejected,
    ExecutionReport,
    OrderAccepted,
    OrderRejected,
    PriceLevel,
)
from krakenbot.engine.inputs import SendFinished

S = 1_000_000_000
MIN = 60 * S
D = Decimal
T0 = 1_762_777_020 * S


def _venue(latency_ns: int = 0, usd: str = "100", xlm: str = "0") -> BacktestVenue:
    balances = {"USD": D(usd)} | ({"XLM": D(xlm)} if xlm != "0" else {})
    return BacktestVenue({"XLM/USD": XLM}, balances, latency_ns=latency_ns)


def _u(price: str) -> int:
    return int(D(price).scaleb(6))


def _bar(v: BacktestVenue, k: int, o: str, h: str, lo: str, c: str) -> None:
    v.bar("XLM/USD", T0 + k * MIN, T0 + (k + 1) * MIN, (_u(o), _u(h), _u(lo), _u(c)))


def _play(v: BacktestVenue, until_ns: int) -> list[object]:
    out: list[object] = []
    while (t := v.next_at(until_ns)) is not None:
        out += v.run_at(t)
    return out


def _buy(cl: str, price: str, qty: str = "30", **kw: object) -> PlaceOrder:
    return PlaceOrder(cl, "XLM/USD", Side.BUY, OrderType.LIMIT, D(qty), D(price), **kw)  # type: ignore[arg-type]


def _reports(events: list[object]) -> list[tuple[ExecType, OrderStatus]]:
    return [(e.exec_type, e.order_status) for e in events if isinstance(e, ExecutionReport)]


def _closed_at(v: BacktestVenue, price: str) -> None:
    v.bar_closed("XLM/USD", _u(price))


def test_a_resting_buy_fills_when_the_candle_trades_through_it_at_its_price_as_maker() -> None:
    v = _venue()
    _closed_at(v, "0.300000")
    v.place(_buy("kb1", "0.299000", post_only=True), T0)
    _bar(v, 0, "0.300000", "0.301000", "0.298000", "0.300500")  # up: dips to 0.298 first
    events = _play(v, T0 + MIN)
    assert [type(e) for e in events[:3]] == [OrderAccepted, ExecutionReport, SendFinished]
    assert _reports(events) == [
        (ExecType.NEW, OrderStatus.OPEN),
        (ExecType.TRADE, OrderStatus.FILLED),
        (ExecType.FILLED, OrderStatus.FILLED),
    ]
    trade = next(e for e in events if isinstance(e, ExecutionReport) and e.fill)
    fill = trade.fill
    assert fill is not None
    assert fill.price == D("0.299000") and fill.qty == D(30)
    assert fill.liquidity is Liquidity.MAKER and fill.fee == (D("8.97") * D("0.0025"))
    # The path 0.300 → 0.298 over the first third reaches 0.298999 (a tick through) at once.
    assert T0 < fill.exchange_ns < T0 + 20 * S
    moves = [e for e in events if isinstance(e, BalanceChange)]
    assert [(m.asset, m.amount) for m in moves] == [
        ("XLM", D(30)),
        ("USD", -(D("8.97") + fill.fee)),
    ]
    assert v.balances["USD"] == D(100) - D("8.97") - fill.fee


def test_touching_the_price_exactly_fills_nothing() -> None:
    v = _venue()
    _closed_at(v, "0.300000")
    v.place(_buy("kb1", "0.299000"), T0)
    _bar(v, 0, "0.300000", "0.301000", "0.299000", "0.300500")
    events = _play(v, T0 + MIN)
    assert _reports(events) == [(ExecType.NEW, OrderStatus.OPEN)]
    assert v.open_orders()[0].cl_ord_id == "kb1"


def test_latency_the_order_misses_what_traded_before_it_arrived() -> None:
    v = _venue(latency_ns=30 * S)  # arrives half-way: after the dip (first third), on the way up
    _closed_at(v, "0.300000")
    v.place(_buy("kb1", "0.299000"), T0)
    _bar(v, 0, "0.300000", "0.301000", "0.298000", "0.300500")
    events = _play(v, T0 + MIN)
    accepted = next(e for e in events if isinstance(e, OrderAccepted))
    assert accepted.recv_ns == T0 + 30 * S
    assert _reports(events) == [(ExecType.NEW, OrderStatus.OPEN)]


def test_a_post_only_buy_that_would_take_is_cancelled() -> None:
    v = _venue()
    _closed_at(v, "0.300000")  # the one-tick book: bid 0.300000, ask 0.300001
    v.place(_buy("kb1", "0.300001", post_only=True), T0)
    events = _play(v, T0 + 1)
    assert _reports(events) == [(ExecType.CANCELED, OrderStatus.CANCELED)]
    assert next(e for e in events if isinstance(e, ExecutionReport)).reason == "Post only order"


def test_an_ioc_sell_takes_the_bid_on_the_path_and_pays_the_taker_fee() -> None:
    v = _venue(xlm="30")
    _closed_at(v, "0.300000")
    sell = replace(_buy("kb2", "0.290000"), side=Side.SELL, time_in_force=TimeInForce.IOC)
    v.place(sell, T0 + 10 * S)
    _bar(v, 0, "0.300000", "0.300000", "0.294000", "0.294000")  # down: 0.300 → … → 0.294
    events = _play(v, T0 + MIN)
    fill = next(e.fill for e in events if isinstance(e, ExecutionReport) and e.fill)
    assert fill is not None and fill.liquidity is Liquidity.TAKER
    # At 10 s the path is a sixth of the way down the first third's straight line (o → h).
    assert fill.price == D("0.300000")
    assert fill.fee == (D("9.0") * D("0.004"))


def test_an_ioc_remainder_that_cannot_fill_is_cancelled() -> None:
    v = _venue(xlm="30")
    _closed_at(v, "0.300000")
    sell = replace(_buy("kb2", "0.310000"), side=Side.SELL, time_in_force=TimeInForce.IOC)
    v.place(sell, T0)
    events = _play(v, T0 + 1)
    assert _reports(events)[-1] == (ExecType.CANCELED, OrderStatus.CANCELED)


def test_a_stop_loss_fires_where_the_path_reaches_its_trigger() -> None:
    v = _venue(xlm="30")
    _closed_at(v, "0.300000")
    stop = PlaceOrder(
        "kb3", "XLM/USD", Side.SELL, OrderType.STOP_LOSS, D(30), None, trigger_price=D("0.297")
    )
    v.place(stop, T0)
    _bar(v, 0, "0.300000", "0.300000", "0.294000", "0.295000")  # down: o → h → l → c
    events = _play(v, T0 + MIN)
    assert _reports(events)[1:3] == [
        (ExecType.STATUS, OrderStatus.OPEN),
        (ExecType.TRADE, OrderStatus.FILLED),
    ]
    fill = next(e.fill for e in events if isinstance(e, ExecutionReport) and e.fill)
    assert fill is not None and fill.price == D("0.297000")
    assert T0 + 20 * S < fill.exchange_ns < T0 + 40 * S  # on the way from the high to the low


def test_gtd_orders_expire_at_their_time() -> None:
    v = _venue()
    _closed_at(v, "0.300000")
    v.place(_buy("kb1", "0.200000", expire_s=45.0), T0)
    _bar(v, 0, "0.300000", "0.301000", "0.299000", "0.300500")
    events = _play(v, T0 + MIN)
    expired = [e for e in events if isinstance(e, ExecutionReport)][-1]
    assert (expired.exec_type, expired.recv_ns) == (ExecType.EXPIRED, T0 + 45 * S)


def test_refusals_as_kraken_refuses() -> None:
    v = _venue(usd="5")
    v.place(_buy("kb0", "0.300000"), T0)  # no market data yet
    events = _play(v, T0 + 1)
    _closed_at(v, "0.300000")
    v.place(_buy("kb1", "0.300000"), T0)  # 9 USD with 5
    v.place(_buy("kb2", "0.3000001"), T0)  # off the tick
    v.cancel(CancelOrder("kb9"), T0)
    events += _play(v, T0 + 1)
    rejected = [(e.cl_ord_id, e.error) for e in events if isinstance(e, OrderRejected)]
    assert rejected == [
        ("kb0", "EService:Unavailable (no market data yet)"),
        ("kb1", "EOrder:Insufficient funds"),
        ("kb2", "EOrder:Tick size check failed"),
    ]
    assert any(isinstance(e, CancelRejected) and e.cl_ord_id == "kb9" for e in events)
    assert sum(isinstance(e, SendFinished) for e in events) == 3


def _book(bid: str, bid_qty: str, ask: str, t: int) -> BookTop:
    return BookTop(
        "XLM/USD",
        (PriceLevel(D(bid), D(bid_qty)),),
        (PriceLevel(D(ask), D("1000")),),
        True,
        t,
        t,
    )


def test_against_a_recorded_book_the_queue_ahead_trades_first() -> None:
    v = _venue()
    v.book(_book("0.300000", "50", "0.300010", T0))
    v.place(_buy("kb1", "0.300000"), T0)
    assert _reports(_play(v, T0 + 1)) == [(ExecType.NEW, OrderStatus.OPEN)]
    assert v.trade("XLM/USD", D("0.300000"), D("40"), False, T0 + S) == []  # 10 still ahead
    v.book(_book("0.300000", "5", "0.300010", T0 + 2 * S))  # the level shrank: 5 ahead now
    events = v.trade("XLM/USD", D("0.300000"), D("12"), False, T0 + 3 * S)
    fill = next(e.fill for e in events if isinstance(e, ExecutionReport) and e.fill)
    assert fill is not None and fill.qty == D(7) and fill.exchange_ns == T0 + 3 * S
    events = v.trade("XLM/USD", D("0.299990"), D("1"), False, T0 + 4 * S)  # through: the rest
    assert _reports(events)[-1] == (ExecType.FILLED, OrderStatus.FILLED)
    assert v.orders["O0000001-BTEST"].filled == D(30)


def test_a_taker_walks_the_recorded_book() -> None:
    v = _venue(usd="1000")
    book = BookTop(
        "XLM/USD",
        (PriceLevel(D("0.29"), D("10")),),
        (PriceLevel(D("0.30"), D("10")), PriceLevel(D("0.31"), D("10"))),
        True,
        T0,
        T0,
    )
    v.book(book)
    v.place(_buy("kb1", "0.310000", qty="15", time_in_force=TimeInForce.IOC), T0)
    fills = [e.fill for e in _play(v, T0 + 1) if isinstance(e, ExecutionReport) and e.fill]
    assert [(f.price, f.qty) for f in fills if f] == [(D("0.30"), D(10)), (D("0.31"), D(5))]


def test_amend_in_place_and_unknown_orders() -> None:
    v = _venue()
    _closed_at(v, "0.300000")
    v.place(_buy("kb1", "0.290000"), T0)
    v.amend(AmendOrder("kb1", "XLM/USD", qty=D(40)), T0)
    v.amend(AmendOrder("kb8", "XLM/USD", qty=D(40)), T0)
    events = _play(v, T0 + 1)
    assert _reports(events)[-1] == (ExecType.AMENDED, OrderStatus.OPEN)
    assert v.open_orders()[0].qty == D(40)
    assert any(isinstance(e, AmendRejected) and e.cl_ord_id == "kb8" for e in events)
