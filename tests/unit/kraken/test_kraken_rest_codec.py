from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderType, Side, SystemState, TimeInForce
from krakenbot.errors import FatalExchangeError, RejectedError
from krakenbot.kraken import rest_codec as codec
from krakenbot.kraken import rest_orders as orders

DATA = Path(__file__).parents[2] / "data" / "rest"


def result(name: str) -> object:
    return codec.decode_envelope((DATA / name).read_bytes(), endpoint="test").result


def test_time_and_system_status() -> None:
    assert codec.parse_time(result("rest_time__docs.json")).unixtime == 1688669448
    st = codec.parse_system_status(result("rest_systemstatus__docs.json"))
    assert st.status is SystemState.ONLINE and st.timestamp == "2023-07-06T18:52:00Z"


def test_error_envelopes_in_both_shapes_raise_mapped_errors() -> None:
    for name in (
        "rest_error_invalid_key__docs_errors_page.json",
        "rest_error_invalid_key__pks_test.json",
    ):
        with pytest.raises(FatalExchangeError) as info:
            result(name)
        assert info.value.kraken_error == "EAPI:Invalid key"
    with pytest.raises(RejectedError):
        result("rest_error_insufficient_funds__pks_unit_test.json")


def test_not_json_or_no_envelope_is_a_codec_error() -> None:
    with pytest.raises(codec.CodecError):
        codec.decode_envelope(b"<html>502</html>", endpoint="x")
    with pytest.raises(codec.CodecError):
        codec.decode_envelope(b'{"error":[]}', endpoint="x")
    with pytest.raises(codec.CodecError):
        codec.decode_envelope(b"[1,2]", endpoint="x")


def test_warnings_do_not_fail_the_call() -> None:
    env = codec.decode_envelope(
        b'{"error":["WGeneral:Deprecated"],"result":{"count":1}}', endpoint="x"
    )
    assert env.warnings == ("WGeneral:Deprecated",) and env.result == {"count": 1}


def test_asset_pairs_become_instruments() -> None:
    insts = codec.parse_asset_pairs(result("rest_assetpairs_xethxxbt_xxbtzusd__docs_spec.json"))
    btc = insts["BTC/USD"]
    assert (btc.rest_id, btc.altname, btc.wsname, btc.base, btc.quote) == (
        "XXBTZUSD",
        "XBTUSD",
        "XBT/USD",
        "BTC",
        "USD",
    )
    assert btc.tick_size == Decimal("0.1") and btc.ordermin == Decimal("0.0001")
    assert btc.costmin == Decimal("0.5") and btc.taker_fee_pct == Decimal("0.26")
    assert btc.quantize_price(Decimal("30000.19")) == Decimal("30000.1")
    assert "ETH/BTC" in insts
    # The old XLM record has no tick_size / costmin / cost_decimals: safe fallbacks.
    xlm = codec.parse_asset_pairs(result("rest_assetpairs_xxlmzusd__php_test_circa2021.json"))[
        "XLM/USD"
    ]
    assert xlm.tick_size == Decimal("0.000001") and xlm.ordermin == Decimal("10")
    assert xlm.violation(Decimal("0.1"), Decimal("5")) == "EOrder:Order minimum not met"


def test_ticker_and_depth_keep_exact_text() -> None:
    t = codec.parse_ticker(result("rest_ticker_xxbtzusd__docs.json"))["XXBTZUSD"]
    assert t.ask == Decimal("30300.10000") and t.bid == Decimal("30300.00000")
    assert t.trades_24h == 38907 and t.open_today == Decimal("30502.80000")
    d = codec.parse_depth(result("rest_depth_xxbtzusd__docs.json"))["XXBTZUSD"]
    assert d.asks[0].price == Decimal("30384.10000") and d.bids[0].qty == Decimal("1.115")


def test_balances_normalize_assets_and_keep_earn_apart() -> None:
    b = codec.parse_balance(result("rest_balance__docs.json"))
    assert b.available("USD") == Decimal("171288.6158")
    assert b.available("BTC") == Decimal("1011.1908877900")
    assert b.spot("USD").wallet == ""
    assert [e.wallet for e in b.earn("USD")] == ["M"]
    assert b.earn("ETH2")[0].balance == Decimal("198.3970800000")
    assert b.available("XLM") == 0
    ex = codec.parse_balance_ex(result("rest_balanceex__docs.json"))
    assert ex.available("USD") == Decimal("25435.21") - Decimal("8249.76")
    assert ex.spot("BTC").hold == Decimal("0.84230000")


def test_normalize_asset() -> None:
    assert codec.normalize_asset("XXLM") == ("XLM", "")
    assert codec.normalize_asset("ZUSD") == ("USD", "")
    assert codec.normalize_asset("XBT") == ("BTC", "")
    assert codec.normalize_asset("XXBT") == ("BTC", "")
    assert codec.normalize_asset("XBT.F") == ("BTC", "F")
    assert codec.normalize_asset("DOT.S") == ("DOT", "S")


def test_duplicate_codes_add_up() -> None:
    b = codec.parse_balance({"XXBT": "1.5", "XBT": "0.5", "XBT.F": "2"})
    assert b.available("BTC") == Decimal("2.0") and b.earn("BTC")[0].balance == 2


def test_orders_and_trades() -> None:
    (o1, _o2) = orders.parse_open_orders(result("rest_openorders__real_roq_2026-01.json"))
    assert o1.txid == "OFIYM3-N4EEJ-2O6UKI" and o1.cl_ord_id == "aff1f7b04d000200"
    assert o1.userref is None and o1.is_open and o1.side is Side.BUY
    assert o1.price.absolute == Decimal("81818.0") and o1.volume == Decimal("0.00010000")
    assert o1.open_ns == 1769057759974710000 and o1.time_in_force == "gtc"
    page = orders.parse_closed_orders(result("rest_closedorders__docs_None_to_null.json"))
    assert page.count == 2 and page.orders[0].reason == "User requested"
    assert page.orders[0].close_ns == 1688148610048200000 and not page.orders[0].is_open
    q = orders.parse_query_orders(
        result("rest_queryorders_open_post__ccxt_2024-01_stringified.json")
    )
    assert q[0].post_only and q[0].userref == 0
    th = orders.parse_trades_history(result("rest_tradeshistory__docs_True_to_true.json"))
    assert (
        th.count == 2 and th.trades[0].maker is True and th.trades[0].cost == Decimal("600.20000")
    )


def test_add_order_cancel_and_token_results() -> None:
    r = orders.parse_add_order(result("rest_addorder__docs_schema_example.json"), "cid")
    assert r.txid == "OU22CG-KLAF2-FWUDD7" and r.description.startswith("buy 1.45")
    close = orders.parse_add_order(result("rest_addorder_with_close__docs_example.json"), "c")
    assert close.close_description is not None
    assert orders.parse_add_order({"descr": {"order": "x"}}, "v").txid is None  # validate
    assert codec.parse_cancel(result("rest_cancelorder__docs.json")).count == 1
    after = codec.parse_cancel_after(result("rest_cancelallordersafter__docs.json"))
    assert after.trigger_time == "2023-03-24T17:42:56Z"
    tok = codec.parse_ws_token(result("rest_getwebsocketstoken__docs.json"))
    assert tok.expires_s == 900 and tok.token not in repr(tok)


def test_add_order_params_render_kraken_fields() -> None:
    req = orders.OrderRequest(
        pair="XLMUSD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        volume=Decimal("25.00000000"),
        price=Decimal("0.100000"),
        cl_ord_id="abc123",
        post_only=True,
    )
    params = orders.add_order_params(req, 1_700_000_005_123_000_000)
    assert params == {
        "ordertype": "limit",
        "type": "buy",
        "volume": Decimal("25.00000000"),
        "pair": "XLMUSD",
        "price": Decimal("0.100000"),
        "oflags": "post",
        "cl_ord_id": "abc123",
        "deadline": "2023-11-14T22:13:25.123Z",
    }
    ioc = orders.OrderRequest(
        "XLMUSD",
        Side.SELL,
        OrderType.MARKET,
        Decimal(30),
        "x",
        time_in_force=TimeInForce.IOC,
        validate=True,
    )
    p = orders.add_order_params(ioc, None)
    assert p["timeinforce"] == "IOC" and p["validate"] is True and "price" not in p


@pytest.mark.parametrize(
    "kwargs",
    [
        {"order_type": OrderType.LIMIT, "price": None},
        {"order_type": OrderType.MARKET, "price": Decimal(1)},
        {"order_type": OrderType.MARKET, "price": None, "post_only": True},
        {"order_type": OrderType.LIMIT, "price": Decimal(1), "cl_ord_id": ""},
        {"order_type": OrderType.LIMIT, "price": Decimal(1), "volume": Decimal(0)},
    ],
)
def test_bad_order_requests_are_refused(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {
        "pair": "XLMUSD",
        "side": Side.BUY,
        "volume": Decimal(1),
        "cl_ord_id": "c",
    }
    base.update(kwargs)
    with pytest.raises(ValueError):
        orders.OrderRequest(**base)  # type: ignore[arg-type]


def test_a_real_trailing_stop_order_is_read() -> None:
    """A trailing stop placed by hand on the website (ccxt fixture of a real reply): its
    relative price `+50.0000%` once made OpenOrders unreadable and stopped the daemon."""
    (o,) = orders.parse_open_orders(
        result("rest_openorders_trailing_stop__ccxt_2024-02_stringified.json")
    )
    assert o.order_type == "trailing-stop" and str(o.price) == "+50.0000%"
    assert o.txid == "OF7S76-H2IMS-N2ML4U" and o.is_open and o.volume == Decimal("10.00000000")


def test_malformed_rows_are_codec_errors() -> None:
    with pytest.raises(codec.CodecError):
        orders.parse_order("X", {"status": "open"})
    # In a list an unreadable order is kept (with the reason), not fatal to its neighbours.
    listed = orders.parse_open_orders({"open": {"X": {"status": "open", "cl_ord_id": "c"}}})
    assert len(listed) == 0 and [(u.order_id, u.cl_ord_id) for u in listed.unreadable] == [
        ("X", "c")
    ]
    with pytest.raises(codec.CodecError):
        codec.parse_ticker({"P": {"a": []}})
    with pytest.raises(codec.CodecError):
        codec.parse_system_status({"status": "weird"})


def test_order_request_from_a_venue_command_checks_exchange_rules() -> None:
    xlm = codec.parse_asset_pairs(result("rest_assetpairs_xxlmzusd__php_test_circa2021.json"))[
        "XLM/USD"
    ]
    cmd = PlaceOrder(
        "cid-1",
        "XLM/USD",
        Side.BUY,
        OrderType.LIMIT,
        Decimal("25"),
        Decimal("0.100000"),
        post_only=True,
        deadline_s=5,
    )
    req = orders.order_request(cmd, xlm)
    assert (req.pair, req.volume, req.price, req.post_only, req.deadline_s) == (
        "XLMUSD",
        Decimal("25"),
        Decimal("0.100000"),
        True,
        5,
    )
    with pytest.raises(ValueError, match="Order minimum not met"):
        orders.order_request(replace(cmd, qty=Decimal("5")), xlm)
    with pytest.raises(ValueError, match="Tick size"):
        orders.order_request(replace(cmd, limit_price=Decimal("0.1000001")), xlm)
    with pytest.raises(ValueError):
        replace(req, deadline_s=1.0)
