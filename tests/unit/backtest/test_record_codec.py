"""The `run --record` format: every value the engine core handles or sends comes back from
JSON exactly as it was; a recording never names a class to build."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from krakenbot.backtest.record_codec import RecordError, decode, encode
from krakenbot.domain.commands import CancelOrder, PlaceOrder
from krakenbot.domain.effects import RecordFill
from krakenbot.domain.enums import (
    ExecType,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerReference,
)
from krakenbot.domain.events import (
    BalanceChange,
    BookTop,
    ExecutionReport,
    Fill,
    MarketTrade,
    PriceLevel,
    Ticker,
    TimerTick,
)
from krakenbot.domain.order_terms import OrderPrice, TriggerState
from krakenbot.engine.inputs import SendFinished, WriteDone

FILL = Fill(
    "T1",
    "O1",
    "kb1",
    "XLM/USD",
    Side.BUY,
    D("0.3"),
    D("10"),
    D("3.0"),
    D("0.0075"),
    "USD",
    Liquidity.MAKER,
    123,
)
VALUES = [
    FILL,
    ExecutionReport(
        ExecType.TRADE,
        "O1",
        "kb1",
        OrderStatus.FILLED,
        5,
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.STOP_LOSS,
        order_qty=D("10"),
        cum_qty=D("10.00"),
        fill=FILL,
        trigger=TriggerState(TriggerReference.LAST, OrderPrice(D("0.29")), "triggered"),
        time_in_force=TimeInForce.GTC,
        post_only=False,
        recv_ns=9,
    ),
    BookTop(
        "XLM/USD", (PriceLevel(D("0.300"), D("5")),), (PriceLevel(D("0.31"), D("6")),), True, 1, 2
    ),
    Ticker("XLM/USD", tuple(str(i) for i in range(11)), 3, 4),  # type: ignore[arg-type]
    TimerTick(5),
    SendFinished("kb1", 7),
    WriteDone(RecordFill(FILL), True, 8),
    PlaceOrder("kb1", "XLM/USD", Side.BUY, OrderType.LIMIT, D("10"), D("0.3"), expire_s=60.0),
    CancelOrder("kb1"),
    MarketTrade("XLM/USD", Side.SELL, D("0.3"), D("1"), OrderType.MARKET, 5, 6, 7),
    BalanceChange("USD", D("1.0000"), None, True, 1, 2),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_round_trip_through_json(value: object) -> None:
    back = decode(json.loads(json.dumps(encode(value))))
    assert back == value and type(back) is type(value)
    assert str(getattr(back, "price", "")) == str(getattr(value, "price", ""))  # digits kept


def test_only_known_types() -> None:
    with pytest.raises(RecordError):
        decode({"@": "Popen", "args": ["rm"]})
    with pytest.raises(RecordError):
        encode(object())
