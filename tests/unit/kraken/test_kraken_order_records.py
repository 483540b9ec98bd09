"""Every order Kraken can report is read into typed values: the ten order types, relative and
percentage prices, triggers, conditional close, start/expire times, margin fields; an order
that cannot be read is kept (with its reason), never fatal to the others. REST order records
(OpenOrders / ClosedOrders / QueryOrders) and WS v2 `executions` reports."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest
from tests.conftest import DATA

from krakenbot.domain.enums import OrderType, Side, TimeInForce, TriggerReference
from krakenbot.domain.events import DecodeFailed, ExecutionReport
from krakenbot.domain.order_terms import OrderPrice
from krakenbot.kraken import rest_orders as orders
from krakenbot.kraken.order_fields import format_price, parse_leverage, parse_price
from krakenbot.kraken.rest_codec import CodecError, decode_envelope
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import SequencedBatch

REST = DATA / "rest"
WS = DATA / "ws" / "real_messages"


def result(name: str) -> Any:
    return decode_envelope((REST / name).read_bytes(), endpoint="test").result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30010.0", OrderPrice(D("30010.0"))),
        ("0", OrderPrice(D("0"))),
        ("+50.0000%", OrderPrice(D("50.0000"), "+", percent=True)),
        ("-1.5", OrderPrice(D("1.5"), "-")),
        ("#0.5%", OrderPrice(D("0.5"), "#", percent=True)),
        ("+0", OrderPrice(D("0"), "+")),
    ],
)
def test_prices_absolute_relative_and_percent(text: str, expected: OrderPrice) -> None:
    assert parse_price(text) == expected
    assert format_price(expected) == text


@pytest.mark.parametrize("text", ["", "50%", "1e5", "abc", "++1", "1,5", "NaN", "-", "%"])
def test_unreadable_prices_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_price(text)


def test_relative_prices_never_pass_for_absolute_ones() -> None:
    assert parse_price("+50.0000%").absolute is None
    assert parse_price("-1.5").absolute is None
    assert parse_price("30010.0").absolute == D("30010.0")
    assert parse_leverage("5:1") == 5 and parse_leverage("none") is None


def test_the_real_trailing_stop_is_read_into_typed_values() -> None:
    listed = orders.parse_open_orders(
        result("rest_openorders_trailing_stop__ccxt_2024-02_stringified.json")
    )
    assert listed.unreadable == ()
    (o,) = listed
    assert o.order_type is OrderType.TRAILING_STOP and o.side is Side.BUY
    assert o.price == OrderPrice(D("50.0000"), "+", percent=True)
    assert o.stop_price == D("0.75790000") and o.limit_price == D("0.50527000")
    assert o.trigger is TriggerReference.INDEX and o.trigger_price == D("0.75790000")
    assert o.limit_leg is None and o.is_open and o.userref == 0
    assert o.description == "buy 10.00000000 XRPUSD @ trailing stop +50.0000%"
    assert o.close is None and o.leverage is None and o.expire_ns is None


def test_every_recorded_order_list_reads_without_an_unreadable_entry() -> None:
    kinds = ("openorders", "closedorders", "queryorders")
    names = sorted(p.name for p in REST.glob("rest_*.json") if p.name.split("_")[1] in kinds)
    assert len(names) == 7
    for name in names:
        res = result(name)
        if "closedorders" in name:
            page = orders.parse_closed_orders(res)
            assert page.orders.unreadable == () and len(page.orders) == page.count
        elif "openorders" in name:
            assert orders.parse_open_orders(res).unreadable == ()
        else:
            assert orders.parse_query_orders(res).unreadable == ()


def test_docs_orders_keep_leverage_triggers_and_types() -> None:
    (_o1, o2) = orders.parse_open_orders(result("rest_openorders__docs_None_to_null.json"))
    assert o2.leverage == 5 and o2.userref == 45326 and o2.trigger is None
    page = orders.parse_closed_orders(result("rest_closedorders__docs_None_to_null.json"))
    sll, tpl = page.orders
    assert sll.order_type is OrderType.STOP_LOSS_LIMIT and sll.trigger is TriggerReference.INDEX
    assert tpl.order_type is OrderType.TAKE_PROFIT_LIMIT and sll.close_ns is not None


def order(**changes: Any) -> dict[str, Any]:
    """A Kraken OpenOrders entry (the docs example's shape) with `descr` / top changes."""
    base: dict[str, Any] = {
        "refid": None,
        "userref": 0,
        "status": "open",
        "opentm": 1688666559.8974,
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": "XBTUSD",
            "type": "sell",
            "ordertype": "limit",
            "price": "30010.0",
            "price2": "0",
            "leverage": "none",
            "order": "sell 1.25000000 XBTUSD @ limit 30010.0",
            "close": "",
        },
        "vol": "1.25000000",
        "vol_exec": "0.00000000",
        "cost": "0.00000",
        "fee": "0.00000",
        "price": "0.00000",
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": "fciq",
    }
    descr = changes.pop("descr", {})
    base["descr"].update(descr)
    base.update(changes)
    return base


@pytest.mark.parametrize("ordertype", [t.value for t in OrderType])
def test_every_order_type_is_read(ordertype: str) -> None:
    o = orders.parse_order("OX", order(descr={"ordertype": ordertype}))
    assert o.order_type is OrderType(ordertype)


def test_trigger_orders_their_legs_times_margin_and_conditional_close() -> None:
    tsl = orders.parse_order(
        "OT",
        order(
            descr={
                "ordertype": "trailing-stop-limit",
                "price": "+2.0000%",
                "price2": "-0.5",
                "order": "sell 1.25000000 XBTUSD @ trailing stop +2.0000% -> limit -0.5",
                "close": "close position @ limit 31000.0",
                "leverage": "3:1",
            },
            trigger="last",
            stopprice="29400.0",
            starttm=1688666600,
            expiretm="1688670000.5",
            margin=True,
        ),
    )
    assert tsl.price == OrderPrice(D("2.0000"), "+", percent=True)
    assert tsl.price2 == OrderPrice(D("0.5"), "-")
    assert tsl.trigger_price == D("29400.0") and tsl.limit_leg is None  # not triggered yet
    assert tsl.close == "close position @ limit 31000.0" and tsl.leverage == 3 and tsl.margin
    assert tsl.start_ns == 1688666600 * 10**9 and tsl.expire_ns == 1688670000500000000
    sll = orders.parse_order(
        "OS",
        order(descr={"ordertype": "stop-loss-limit", "price": "29000.0", "price2": "28900.0"}),
    )
    assert sll.trigger_price == D("29000.0") and sll.limit_leg == D("28900.0")
    assert sll.trigger is None  # Kraken prints none: the trigger is then `last`
    iceberg = orders.parse_order("OI", order(descr={"ordertype": "iceberg"}))
    assert iceberg.limit_leg == D("30010.0") and iceberg.trigger_price is None
    hashed = orders.parse_order("OH", order(descr={"ordertype": "take-profit", "price": "#5%"}))
    assert hashed.price == OrderPrice(D("5"), "#", percent=True) and hashed.trigger_price is None


def test_an_unreadable_order_is_kept_with_its_reason_and_does_not_hide_the_others() -> None:
    res = {
        "open": {
            "OGOOD": order(),
            "ONEW": order(descr={"ordertype": "fancy-new-type"}, cl_ord_id="manual-1"),
            "OBAD": order(descr={"price": "about 5"}),
            "OJUNK": "not an object",
        }
    }
    listed = orders.parse_open_orders(res)
    assert [o.txid for o in listed] == ["OGOOD"]
    bad = {u.order_id: u for u in listed.unreadable}
    assert set(bad) == {"ONEW", "OBAD", "OJUNK"}
    assert bad["ONEW"].cl_ord_id == "manual-1" and bad["ONEW"].status == "open"
    assert "fancy-new-type" in bad["ONEW"].error and bad["OJUNK"].status == ""
    with pytest.raises(CodecError):
        orders.parse_order("OBAD", res["open"]["OBAD"])


def _items(frame: dict[str, Any]) -> list[object]:
    (batch,) = decode(json.dumps(frame))
    assert isinstance(batch, SequencedBatch)
    return list(batch.items)


def _report(row: dict[str, Any]) -> ExecutionReport:
    base = {
        "order_id": "OX",
        "symbol": "BTC/USD",
        "order_qty": 1.0,
        "exec_type": "pending_new",
        "side": "sell",
        "order_status": "pending_new",
        "timestamp": "2024-05-18T12:01:56.165888Z",
    }
    (item,) = _items({"channel": "executions", "type": "update", "data": [{**base, **row}]})
    assert isinstance(item, ExecutionReport), item
    return item


def test_the_real_stop_loss_limit_report_keeps_its_type_and_trigger() -> None:
    frame = json.loads(
        (
            WS / "ws_executions_pending_new_stop_loss_limit_triggers__kraken-async-rs.json"
        ).read_text()
    )
    (r,) = _items(frame)
    assert isinstance(r, ExecutionReport)
    assert r.order_type is OrderType.STOP_LOSS_LIMIT and r.limit_price == D("0.2")
    assert r.trigger is not None and r.trigger.reference is TriggerReference.INDEX
    assert r.trigger.price == OrderPrice(D("0.2")) and r.trigger.status == "untriggered"


def test_ws_trailing_stop_limit_offsets_are_never_read_as_prices() -> None:
    r = _report(
        {
            "order_type": "trailing-stop-limit",
            "limit_price": 0.5,
            "limit_price_type": "static",
            "triggers": {
                "reference": "last",
                "price": 1.5,
                "price_type": "pct",
                "actual_price": 61234.5,
                "peak_price": 62165.0,
                "last_price": 62000.1,
                "status": "untriggered",
            },
            "time_in_force": "GTD",
            "expire_time": "2024-05-19T00:00:00.000000Z",
        }
    )
    assert r.limit_price is None and r.limit_offset == OrderPrice(D("0.5"), "+")
    assert r.trigger is not None and r.trigger.price == OrderPrice(D("1.5"), "+", percent=True)
    assert r.trigger.peak_price == D("62165.0") and r.trigger.actual_price == D("61234.5")
    assert r.time_in_force is TimeInForce.GTD and r.expire_ns is not None


def test_ws_iceberg_margin_relative_limit_and_conditional_close() -> None:
    r = _report(
        {
            "order_type": "iceberg",
            "limit_price": 30000.0,
            "display_qty": 0.1,
            "margin": True,
            "reduce_only": False,
            "effective_time": "2024-05-18T13:00:00.000000Z",
            "contingent": {
                "order_type": "stop-loss-limit",
                "trigger_price": -2.0,
                "trigger_price_type": "pct",
                "limit_price": 29000.0,
                "limit_price_type": "static",
            },
        }
    )
    assert r.order_type is OrderType.ICEBERG and r.display_qty == D("0.1")
    assert r.limit_price == D("30000.0") and r.margin is True and r.reduce_only is False
    assert r.effective_ns is not None and r.contingent is not None
    assert r.contingent.order_type is OrderType.STOP_LOSS_LIMIT
    assert r.contingent.trigger_price == OrderPrice(D("2.0"), "-", percent=True)
    assert r.contingent.limit_price == OrderPrice(D("29000.0"))
    quoted = _report({"order_type": "limit", "limit_price": -10, "limit_price_type": "quote"})
    assert quoted.limit_price is None and quoted.limit_offset == OrderPrice(D("10"), "-")


def test_deprecated_stop_price_alone_still_gives_the_trigger() -> None:
    r = _report({"order_type": "stop-loss", "stop_price": 55.0, "trigger": "last"})
    assert r.trigger is not None and r.trigger.price == OrderPrice(D("55.0"))
    plain = _report({"order_type": "limit", "limit_price": 1.0, "stop_price": 0.0})
    assert plain.trigger is None


@pytest.mark.parametrize(
    "row",
    [
        {"order_type": "fancy-new-type"},
        {"order_type": "stop-loss", "triggers": {"reference": "mark", "price": 1.0}},
        {"order_type": "limit", "limit_price": 1.0, "limit_price_type": "weird"},
        {"time_in_force": "SOMEDAY"},
    ],
)
def test_an_unknown_order_term_is_reported_not_guessed(row: dict[str, Any]) -> None:
    frame = {
        "channel": "executions",
        "type": "update",
        "data": [{"order_id": "OX", "exec_type": "new", "order_status": "new", **row}],
    }
    (item,) = _items(frame)
    assert isinstance(item, DecodeFailed)
