"""The daemon's WS order requests (`encode_order`, `encode_amend`): Kraken's v2 field names
(docs websocket-v2/add_order, amend_order; API.md 7.6), exact Decimal text, and accepted by
the simulator's own parser (written independently of our codecs)."""

from __future__ import annotations

import json
from decimal import Decimal

from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.kraken.rest_orders import AmendRequest, OrderRequest
from krakenbot.kraken.ws_requests import encode_amend, encode_order
from krakenbot.sim import amend as sim_amend
from krakenbot.sim.order_params import parse_ws_order
from krakenbot.sim.pairs import PairIndex, make_pairs

NOW = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z
INDEX = PairIndex(make_pairs(("XLM/USD",)))


def _req(**kw: object) -> OrderRequest:
    base: dict[str, object] = {
        "pair": "XLMUSD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "volume": Decimal("30.00000000"),
        "cl_ord_id": "kb0123456789abcdef",
        "price": Decimal("0.286000"),
    }
    base.update(kw)
    return OrderRequest(**base)  # type: ignore[arg-type]


def _encode(req: OrderRequest) -> str:
    return encode_order(
        req, "XLM/USD", token="tok/en+1", req_id=7, deadline_ns=NOW + 2_000_000_000, now_ns=NOW
    )


def test_limit_post_only_with_deadline_and_req_id() -> None:
    text = _encode(_req(post_only=True))
    msg = json.loads(text, parse_float=Decimal)
    assert msg == {
        "method": "add_order",
        "params": {
            "order_type": "limit",
            "side": "buy",
            "order_qty": Decimal("30.00000000"),
            "symbol": "XLM/USD",
            "limit_price": Decimal("0.286000"),
            "post_only": True,
            "cl_ord_id": "kb0123456789abcdef",
            "deadline": "2023-11-14T22:13:22.000Z",
            "token": "tok/en+1",
        },
        "req_id": 7,
    }
    assert '"limit_price":0.286000' in text  # the Decimal's own digits, no float


def test_stop_loss_gtd_and_ioc_spellings() -> None:
    stop = json.loads(
        _encode(_req(order_type=OrderType.STOP_LOSS, side=Side.SELL, price=Decimal("0.27")))
    )["params"]
    assert stop["triggers"] == {"reference": "last", "price": 0.27, "price_type": "static"}
    assert "limit_price" not in stop
    gtd = json.loads(_encode(_req(time_in_force=TimeInForce.GTD, expire_s=60)))["params"]
    assert gtd["time_in_force"] == "gtd" and gtd["expire_time"] == "2023-11-14T22:14:20.000Z"
    ioc = json.loads(_encode(_req(time_in_force=TimeInForce.IOC)))["params"]
    assert ioc["time_in_force"] == "ioc" and "expire_time" not in ioc


def test_strings_that_need_escaping_are_escaped() -> None:
    text = encode_order(
        _req(), 'X"Y', token='a"b\\c', req_id=1, deadline_ns=NOW + 10**9, now_ns=NOW
    )
    params = json.loads(text)["params"]
    assert params["token"] == 'a"b\\c' and params["symbol"] == 'X"Y'


def test_the_simulator_reads_every_order_we_send() -> None:
    for req in (
        _req(post_only=True),
        _req(order_type=OrderType.MARKET, price=None),
        _req(order_type=OrderType.STOP_LOSS, side=Side.SELL, price=Decimal("0.270000")),
        _req(time_in_force=TimeInForce.GTD, expire_s=60),
        _req(time_in_force=TimeInForce.IOC),
    ):
        params = json.loads(_encode(req), parse_float=str)["params"]
        parsed = parse_ws_order(params, INDEX, NOW)
        assert not isinstance(parsed, str), (req, parsed)
        assert parsed.ordertype == req.order_type.value
        assert parsed.volume == req.volume and parsed.cl_ord_id == req.cl_ord_id
        assert parsed.tif == req.time_in_force.value.upper()
        assert parsed.post_only is req.post_only
        if req.expire_s is not None:
            assert parsed.expire_ns == NOW + req.expire_s * 1_000_000_000


def test_amend_by_txid_or_cl_ord_id() -> None:
    by_txid = encode_amend(
        AmendRequest(pair="XLMUSD", txid="OABCDE-FGHIJ-KLMNOP", order_qty=Decimal("20")),
        token="t",
        req_id=3,
        deadline_ns=NOW + 5 * 10**9,
    )
    msg = json.loads(by_txid, parse_float=Decimal)
    assert msg == {
        "method": "amend_order",
        "params": {
            "order_id": "OABCDE-FGHIJ-KLMNOP",
            "order_qty": Decimal("20"),
            "deadline": "2023-11-14T22:13:25.000Z",
            "token": "t",
        },
        "req_id": 3,
    }
    by_cl = encode_amend(
        AmendRequest(pair="XLMUSD", cl_ord_id="kb1", trigger_price=Decimal("0.260000")),
        token="t",
        req_id=4,
        deadline_ns=NOW + 5 * 10**9,
    )
    params = json.loads(by_cl, parse_float=str)["params"]
    assert params["cl_ord_id"] == "kb1" and params["trigger_price"] == "0.260000"
    parsed = sim_amend.parse(params, ws=True)
    assert not isinstance(parsed, str) and parsed[0] == "kb1"
