"""WS v2 request encoders: exact Kraken field names and exact Decimal text."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.kraken.ws_codec import (
    encode_add_order,
    encode_batch_add,
    encode_cancel_all,
    encode_cancel_all_orders_after,
    encode_cancel_order,
    encode_ping,
    encode_subscribe,
    encode_unsubscribe,
)

NOW = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z


def _order(**kw: object) -> PlaceOrder:
    base: dict[str, object] = {
        "cl_ord_id": "c1",
        "symbol": "XLM/USD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": Decimal("25.00000000"),
        "limit_price": Decimal("0.100000"),
    }
    base.update(kw)
    return PlaceOrder(**base)  # type: ignore[arg-type]


def test_subscribe_book_and_executions() -> None:
    msg = json.loads(encode_subscribe("book", symbols=["XLM/USD"], depth=10, req_id=3))
    assert msg == {
        "method": "subscribe",
        "params": {"channel": "book", "symbol": ["XLM/USD"], "depth": 10},
        "req_id": 3,
    }
    ex = json.loads(
        encode_subscribe(
            "executions", token="T", snap_orders=True, snap_trades=True, ratecounter=True
        )
    )
    assert ex["params"] == {
        "channel": "executions",
        "snap_orders": True,
        "snap_trades": True,
        "ratecounter": True,
        "token": "T",
    }
    un = json.loads(encode_unsubscribe("ticker", symbols=["A/B"]))
    assert un["method"] == "unsubscribe" and un["params"]["symbol"] == ["A/B"]


def test_ping() -> None:
    assert json.loads(encode_ping(7)) == {"method": "ping", "req_id": 7}


def test_add_order_writes_exact_decimal_numbers() -> None:
    text = encode_add_order(
        _order(time_in_force=TimeInForce.IOC, post_only=True, deadline_s=5.0),
        token="T",
        now_ns=NOW,
        req_id=9,
    )
    assert '"order_qty":25.00000000' in text and '"limit_price":0.100000' in text
    msg = json.loads(text, parse_float=Decimal)
    assert msg["method"] == "add_order" and msg["req_id"] == 9
    p = msg["params"]
    assert p["order_type"] == "limit" and p["side"] == "buy" and p["symbol"] == "XLM/USD"
    assert p["time_in_force"] == "ioc" and p["post_only"] is True and p["cl_ord_id"] == "c1"
    assert p["deadline"] == "2023-11-14T22:13:25.000Z" and p["token"] == "T"


def test_market_order_has_no_price_and_bad_orders_are_refused() -> None:
    p = json.loads(
        encode_add_order(
            _order(order_type=OrderType.MARKET, limit_price=None), token="T", now_ns=NOW
        )
    )["params"]
    assert "limit_price" not in p and p["order_type"] == "market"
    with pytest.raises(ValueError):
        encode_add_order(_order(limit_price=None), token="T", now_ns=NOW)
    with pytest.raises(ValueError):
        encode_add_order(_order(qty=Decimal(0)), token="T", now_ns=NOW)
    with pytest.raises(ValueError):
        encode_add_order(_order(deadline_s=61.0), token="T", now_ns=NOW)


def test_cancels_and_dead_mans_switch() -> None:
    c = json.loads(encode_cancel_order(token="T", cl_ord_ids=["a", "b"], req_id=1))
    assert c["params"] == {"cl_ord_id": ["a", "b"], "token": "T"}
    assert json.loads(encode_cancel_all(token="T"))["method"] == "cancel_all"
    d = json.loads(encode_cancel_all_orders_after(60, token="T"))
    assert d["method"] == "cancel_all_orders_after" and d["params"]["timeout"] == 60
    with pytest.raises(ValueError):
        encode_cancel_order(token="T")
    with pytest.raises(ValueError):
        encode_cancel_all_orders_after(86400, token="T")


def test_batch_add() -> None:
    orders = [_order(cl_ord_id="a"), _order(cl_ord_id="b", side=Side.SELL)]
    msg = json.loads(encode_batch_add(orders, token="T", now_ns=NOW, req_id=2))
    assert msg["params"]["symbol"] == "XLM/USD"
    assert [o["cl_ord_id"] for o in msg["params"]["orders"]] == ["a", "b"]
    assert all("symbol" not in o for o in msg["params"]["orders"])
    with pytest.raises(ValueError):
        encode_batch_add(orders[:1], token="T", now_ns=NOW)
    with pytest.raises(ValueError):
        encode_batch_add([orders[0], _order(symbol="BTC/USD")], token="T", now_ns=NOW)
