"""ClosedOrders and TradesHistory window exactly as Kraken documents it (sim/history_query.py):
`start` exclusive, `end` inclusive, a tx id as a bound, `closetime`, `ofs` pages of 50 newest
first, `count` the total matching. Pure: the REST method functions on a ManualClock."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from krakenbot.clock import ManualClock
from krakenbot.sim.config import SimConfig
from krakenbot.sim.control import SimControl
from krakenbot.sim.rest_methods import PRIVATE
from krakenbot.sim.state import SimState

T0_S = 1_767_225_600
NS = 1_000_000_000


def _sim() -> tuple[SimState, SimControl, ManualClock]:
    clock = ManualClock(T0_S * NS)
    balances = {"USD": D(10) ** 6, "XLM": D(10) ** 6}
    state = SimState(SimConfig(pairs=("XLM/USD",), balances=balances), clock)
    control = SimControl(state)
    control.set_mid("XLM/USD", D("0.29"))
    return state, control, clock


def _at(clock: ManualClock, second: int) -> None:
    clock.set_wall_ns((T0_S + second) * NS)


def _market(control: SimControl, clock: ManualClock, second: int) -> str:
    """A market order opened, filled and closed at T0 + `second` (one fill)."""
    _at(clock, second)
    return control.place_order(pair="XLMUSD", type="buy", ordertype="market", volume="30")


def _rested(
    state: SimState, control: SimControl, clock: ManualClock, opened: int, closed: int
) -> str:
    """A limit order opened at T0 + `opened` and cancelled at T0 + `closed`."""
    _at(clock, opened)
    txid = control.place_order(
        pair="XLMUSD", type="buy", ordertype="limit", volume="30", price="0.1"
    )
    _at(clock, closed)
    ex = state.exchange
    assert ex.cancel(ex.find_open(txid), clock.now_ns()) is None
    return txid


def _call(state: SimState, method: str, **params: object) -> dict[str, Any]:
    result, error = PRIVATE[method][1](state, dict(params))
    assert error is None, error
    assert isinstance(result, dict)
    return result


def _closed(state: SimState, **params: object) -> list[str]:
    return list(_call(state, "ClosedOrders", **params)["closed"])


def _trades(state: SimState, **params: object) -> list[str]:
    return [t["ordertxid"] for t in _call(state, "TradesHistory", **params)["trades"].values()]


def _s(second: int) -> str:
    return str(T0_S + second)


def test_start_is_exclusive_and_end_inclusive_for_both_listings() -> None:
    state, control, clock = _sim()
    a, b, c, d = (_market(control, clock, s) for s in (10, 20, 30, 40))
    # docs get-closed-orders: "start: Starting unix timestamp or order tx ID of results
    # (exclusive)", "end: Ending unix timestamp or order tx ID of results (inclusive)";
    # docs get-trade-history: the same, with "trade tx ID".
    for listed in (_closed, _trades):
        assert listed(state) == [d, c, b, a]  # "the most recent by default": newest first
        assert listed(state, start=_s(20)) == [d, c]
        assert listed(state, end=_s(30)) == [c, b, a]
        assert listed(state, start=_s(20), end=_s(30)) == [c]
        assert listed(state, start=_s(19) + ".999999999", end=_s(20)) == [b]
        assert listed(state, start=_s(40)) == []
        assert listed(state, start=int(_s(10)), end=int(_s(20))) == [b]  # JSON numbers too


def test_a_tx_id_bound_stands_for_the_order_opening_or_the_trade_time() -> None:
    state, control, clock = _sim()
    early = _rested(state, control, clock, 10, 50)  # open 10 s, closed 50 s
    mid = _market(control, clock, 20)
    late = _market(control, clock, 30)
    # docs get-closed-orders: "If an order's tx ID is given for `start` or `end` time, the
    # order's opening time (`opentm`) is used" — for `early`: 10 s, although it closed at 50 s.
    assert _closed(state, start=mid, closetime="open") == [late]
    assert _closed(state, end=mid, closetime="open") == [mid, early]
    assert _closed(state, start=early, closetime="close") == [early, late, mid]
    assert _closed(state, start=mid, end=late) == [late]
    # TradesHistory: a trade's tx ID is the trade's time.
    fills = _call(state, "TradesHistory")["trades"]
    by_order = {t["ordertxid"]: txid for txid, t in fills.items()}
    assert _trades(state, start=by_order[mid]) == [late]
    assert _trades(state, end=by_order[mid]) == [mid]


def test_closetime_chooses_the_time_searched() -> None:
    state, control, clock = _sim()
    order = _rested(state, control, clock, 10, 50)
    # docs get-closed-orders: "closetime: Which time to use to search", open | close | both,
    # "Default value: both".
    assert _closed(state, start=_s(30), closetime="open") == []
    assert _closed(state, start=_s(30), closetime="close") == [order]
    assert _closed(state, start=_s(30), closetime="both") == [order]
    assert _closed(state, start=_s(30)) == [order]  # both is the default
    assert _closed(state, end=_s(30), closetime="open") == [order]
    assert _closed(state, end=_s(30), closetime="close") == []
    assert _closed(state, end=_s(30)) == [order]
    assert _closed(state, start=_s(20), end=_s(40)) == []  # neither time inside


def test_ofs_pages_fifty_at_a_time_and_count_is_every_match() -> None:
    state, control, clock = _sim()
    txids = [_market(control, clock, s) for s in range(1, 121)]
    newest_first = txids[::-1]
    # docs: "50 results are returned at a time, the most recent by default"; "ofs: Result
    # offset for pagination"; "count: Amount of available order info matching criteria".
    fills = sorted(state.exchange.fills, key=lambda f: f.time_ns, reverse=True)
    after_70 = sum(1 for f in fills if f.time_ns > (T0_S + 70) * NS)
    for method, key, total, windowed in (
        ("ClosedOrders", "closed", 120, 50),
        ("TradesHistory", "trades", len(fills), after_70),
    ):
        pages = [_call(state, method, ofs=ofs) for ofs in (0, 50, 100, total, 500)]
        assert [len(p[key]) for p in pages] == [50, 50, total - 100, 0, 0]
        assert {p["count"] for p in pages} == {total}
        window = [_call(state, method, start=_s(70), ofs=ofs) for ofs in (0, 25, windowed)]
        assert [len(p[key]) for p in window] == [min(50, windowed), min(50, windowed - 25), 0]
        assert {p["count"] for p in window} == {windowed}
    assert [
        t for ofs in (0, 50, 100) for t in _call(state, "TradesHistory", ofs=ofs)["trades"]
    ] == [f.txid for f in fills]
    seen = [t for ofs in (0, 50, 100) for t in _closed(state, ofs=ofs)]
    assert seen == newest_first
    assert _closed(state, start=_s(70), ofs=10) == newest_first[10:50]


def test_trade_type_spot_trades_are_no_position_trades() -> None:
    state, control, clock = _sim()
    order = _market(control, clock, 10)
    # docs get-trade-history: "type: Type of trade" all | any position | closed position |
    # closing position | no position, "Default: all". Spot trades open no position.
    assert _trades(state, type="all") == [order] == _trades(state, type="no position")
    assert _trades(state, type="any position") == []
    assert _call(state, "TradesHistory", type="closing position")["count"] == 0


@pytest.mark.parametrize(
    ("method", "params", "error"),
    [
        ("ClosedOrders", {"ofs": "-1"}, "EGeneral:Invalid arguments:ofs"),
        ("ClosedOrders", {"ofs": "x"}, "EGeneral:Invalid arguments:ofs"),
        ("ClosedOrders", {"closetime": "later"}, "EGeneral:Invalid arguments:closetime"),
        ("ClosedOrders", {"start": "OUNKNO-WNORD-ERTXID"}, "EGeneral:Invalid arguments:start"),
        ("ClosedOrders", {"end": "1e9"}, "EGeneral:Invalid arguments:end"),
        ("ClosedOrders", {"start": "9" * 400}, "EGeneral:Invalid arguments:start"),
        ("TradesHistory", {"start": "TUNKNO-WNTRA-DETXID"}, "EGeneral:Invalid arguments:start"),
        ("TradesHistory", {"ofs": "-50"}, "EGeneral:Invalid arguments:ofs"),
        ("TradesHistory", {"type": "every"}, "EGeneral:Invalid arguments:type"),
    ],
)
def test_bad_window_arguments_are_refused(
    method: str, params: dict[str, object], error: str
) -> None:
    state, control, clock = _sim()
    _market(control, clock, 10)
    assert PRIVATE[method][1](state, params) == (None, error)
