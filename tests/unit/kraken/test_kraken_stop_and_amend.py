"""REST AddOrder for stop-loss and GTD orders, and AmendOrder requests and results.

Facts: docs rest-api/add-order (`ordertype=stop-loss`: `price` is the trigger price;
`trigger` last | index, default last; `timeinforce=GTD` with `expiretm`, `+<n>` seconds from
now), rest-api/amend-order (`txid` or `cl_ord_id`, `order_qty`, `limit_price`,
`trigger_price`, `deadline`; result `{"amend_id": ...}`: vector rest_amendorder__docs.json)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from tests.instruments import XLM

from krakenbot.domain.commands import AmendOrder, PlaceOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.kraken import rest_orders as orders
from krakenbot.kraken.rest_codec import CodecError

DATA = Path(__file__).resolve().parents[2] / "data" / "rest"


def test_a_protective_stop_loss_renders_kraken_fields() -> None:
    cmd = PlaceOrder(
        "kbstop",
        "XLM/USD",
        Side.SELL,
        OrderType.STOP_LOSS,
        D("40"),
        None,
        reduces_position=True,
        trigger_price=D("0.281000"),
    )
    req = orders.order_request(cmd, XLM)
    assert req.price == D("0.281000") and req.order_type is OrderType.STOP_LOSS
    params = orders.add_order_params(req, None)
    assert params == {
        "ordertype": "stop-loss",
        "type": "sell",
        "volume": D("40"),
        "pair": "XLMUSD",
        "price": D("0.281000"),
        "trigger": "last",
        "cl_ord_id": "kbstop",
    }
    off_tick = PlaceOrder(
        "kbstop", "XLM/USD", Side.SELL, OrderType.STOP_LOSS, D("40"), None,
        trigger_price=D("0.2810005"),
    )  # fmt: skip
    with pytest.raises(ValueError, match="Tick size"):
        orders.order_request(off_tick, XLM)


def test_a_gtd_entry_expires_n_seconds_after_kraken_accepts_it() -> None:
    cmd = PlaceOrder(
        "kbentry",
        "XLM/USD",
        Side.BUY,
        OrderType.LIMIT,
        D("40"),
        D("0.250000"),
        time_in_force=TimeInForce.GTD,
        post_only=True,
        expire_s=60.0,
    )
    params = orders.add_order_params(orders.order_request(cmd, XLM), None)
    assert params["timeinforce"] == "GTD" and params["expiretm"] == "+60"
    assert params["oflags"] == "post"
    # Kraken's relative expiry has a 5 s floor; fractions round up (never sooner).
    short = orders.order_request(PlaceOrder(**{**_fields(cmd), "expire_s": 3.0}), XLM)
    assert short.expire_s == 5
    odd = orders.order_request(PlaceOrder(**{**_fields(cmd), "expire_s": 60.2}), XLM)
    assert odd.expire_s == 61


def _fields(cmd: PlaceOrder) -> dict[str, object]:
    return {name: getattr(cmd, name) for name in cmd.__dataclass_fields__}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"order_type": OrderType.STOP_LOSS, "price": None},
        {"order_type": OrderType.STOP_LOSS, "price": D(1), "post_only": True},
        {"order_type": OrderType.TRAILING_STOP, "price": D(1)},
        {"order_type": OrderType.LIMIT, "price": D(1), "time_in_force": TimeInForce.GTD},
        {"order_type": OrderType.LIMIT, "price": D(1), "expire_s": 60},
        {
            "order_type": OrderType.LIMIT,
            "price": D(1),
            "time_in_force": TimeInForce.GTD,
            "expire_s": 4,
        },
    ],
)
def test_requests_kraken_would_refuse_are_refused_here(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {
        "pair": "XLMUSD",
        "side": Side.SELL,
        "volume": D(1),
        "cl_ord_id": "c",
    }
    with pytest.raises(ValueError):
        orders.OrderRequest(**{**base, **kwargs})  # type: ignore[arg-type]


def test_amend_request_by_txid_when_known_else_by_client_id() -> None:
    by_txid = orders.amend_request(
        AmendOrder("kbstop", "XLM/USD", "OTX-1", qty=D("70"), trigger_price=D("0.281300")), XLM
    )
    assert orders.amend_order_params(by_txid, 1_700_000_005_123_000_000) == {
        "txid": "OTX-1",
        "order_qty": D("70"),
        "trigger_price": D("0.281300"),
        "deadline": "2023-11-14T22:13:25.123Z",
    }
    by_cl = orders.amend_request(AmendOrder("kbstop", "XLM/USD", qty=D("70")), XLM)
    assert orders.amend_order_params(by_cl, None) == {"cl_ord_id": "kbstop", "order_qty": D("70")}
    assert by_cl.pair == "XLMUSD"  # the pair whose trading counter it is charged to
    with pytest.raises(ValueError, match="Tick size"):
        orders.amend_request(AmendOrder("kb", "XLM/USD", trigger_price=D("0.2813005")), XLM)
    with pytest.raises(ValueError, match="minimum"):
        orders.amend_request(AmendOrder("kb", "XLM/USD", qty=D("5")), XLM)
    limit = orders.amend_request(AmendOrder("kb", "XLM/USD", limit_price=D("0.29")), XLM)
    assert orders.amend_order_params(limit, None)["limit_price"] == D("0.29")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # neither id
        {"txid": "O", "cl_ord_id": "c", "order_qty": D(1)},  # both ids
        {"txid": "O"},  # nothing to change
        {"txid": "O", "order_qty": D(0)},
        {"txid": "O", "order_qty": D(1), "deadline_s": 1.0},
    ],
)
def test_bad_amend_requests_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        orders.AmendRequest(pair="XLMUSD", **kwargs)  # type: ignore[arg-type]


def test_amend_result_is_read_from_the_documented_reply() -> None:
    doc = json.loads((DATA / "rest_amendorder__docs.json").read_text(), parse_float=D)
    assert orders.parse_amend_order(doc["result"]) == "TEZA4R-DSDGT-IJBOJK"
    for bad in ([], {}, {"amend_id": 5}):
        with pytest.raises(CodecError):
            orders.parse_amend_order(bad)
