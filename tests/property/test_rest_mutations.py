"""Hostile mutations of the real recorded REST bodies: a parser raises nothing but CodecError
(the envelope also the mapped Kraken error), and stays fast on every input."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import DATA

from krakenbot.errors import KrakenbotError
from krakenbot.kraken import rest_codec as codec
from krakenbot.kraken import rest_orders as orders
from mutations import mutations_of, time_bound

PER_INPUT_CPU_S = 0.5


def _add_order(result: Any) -> object:
    return orders.parse_add_order(result, "cl-1")


# File name prefix -> the parser the client applies to that endpoint's `result`.
PARSERS: dict[str, Callable[[Any], object]] = {
    "rest_addorder_": _add_order,
    "rest_assetpairs_": codec.parse_asset_pairs,
    "rest_balance_": codec.parse_balance,
    "rest_balanceex_": codec.parse_balance_ex,
    "rest_cancelallordersafter_": codec.parse_cancel_after,
    "rest_cancelorder_": codec.parse_cancel,
    "rest_closedorders_": orders.parse_closed_orders,
    "rest_depth_": codec.parse_depth,
    "rest_getwebsocketstoken_": codec.parse_ws_token,
    "rest_openorders_": orders.parse_open_orders,
    "rest_queryorders_": orders.parse_query_orders,
    "rest_systemstatus_": codec.parse_system_status,
    "rest_ticker_": codec.parse_ticker,
    "rest_time_": codec.parse_time,
    "rest_tradeshistory_": orders.parse_trades_history,
}


def _parser(name: str) -> Callable[[Any], object] | None:
    found = [p for prefix, p in PARSERS.items() if name.startswith(prefix)]
    return found[0] if found else None


def _envelope(text: str) -> str:
    """A recording of a bare `result` (ccxt fixtures) in the envelope the client receives."""
    return text if text.startswith('{"error"') else '{"error":[],"result":' + text + "}"


BODIES = sorted(
    (path.name, _envelope(path.read_text(encoding="utf-8").strip()))
    for path in (DATA / "rest").glob("rest_*.json")
    if path.name != "rest_sign.json"
)
# Recorded shapes the parsers may refuse (with CodecError, as they must): trailing-stop
# prices are percentages ("+50.0000%").
REFUSED = {"rest_openorders_trailing_stop__ccxt_2024-02_stringified.json"}


def _read(name: str, body: str) -> None:
    """Envelope, then the endpoint's parser: what the REST client does with a body."""
    try:
        env = codec.decode_envelope(body, endpoint="fuzz")
    except codec.CodecError:
        return
    except KrakenbotError as exc:  # a Kraken `E…` error in the envelope, mapped: declared
        assert type(exc).__module__.startswith("krakenbot."), exc
        return
    parse = _parser(name)
    if parse is not None:
        try:
            parse(env.result)
        except codec.CodecError:
            return


@pytest.mark.parametrize(("name", "body"), BODIES, ids=[n for n, _ in BODIES])
def test_every_recorded_body_reads(name: str, body: str) -> None:
    if name.startswith("rest_error_"):
        with pytest.raises(KrakenbotError):
            codec.decode_envelope(body, endpoint="fuzz")
        return
    env = codec.decode_envelope(body, endpoint="fuzz")
    parse = _parser(name)
    if parse is None:
        return
    if name in REFUSED:  # CodecError is fine; accepting it one day is fine too
        with contextlib.suppress(codec.CodecError):
            parse(env.result)
    else:
        parse(env.result)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(BODIES).flatmap(lambda c: mutations_of(c[1]).map(lambda b: (c[0], b))))
def test_only_declared_errors_leave_a_parser(case: tuple[str, str]) -> None:
    name, body = case
    with time_bound(PER_INPUT_CPU_S, lambda: body):
        _read(name, body)
        _read(name, body.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
