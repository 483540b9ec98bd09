"""REST parsers raise nothing but CodecError, and never convert a number Kraken would not send
(an epoch or count of `1e300000` took seconds of uninterruptible C code; `1e999999999` never
finished)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from krakenbot.kraken import rest_codec as codec
from krakenbot.kraken import rest_orders as orders
from krakenbot.kraken.rest_values import MAX_DECIMALS, decimals
from mutations import time_bound

DATA = Path(__file__).parents[2] / "data" / "rest"
FAST_S = 0.2  # CPU seconds: refusing a hostile number costs next to nothing


def _body(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _refused(parse: Callable[[], object]) -> codec.CodecError:
    with time_bound(FAST_S, lambda: "hostile body"), pytest.raises(codec.CodecError) as info:
        parse()
    return info.value


@pytest.mark.parametrize(
    ("parse", "result"),
    [
        (codec.parse_time, {"rfc1123": "Thu, 06 Jul 23"}),  # KeyError
        (codec.parse_ws_token, {"expires": 900}),  # KeyError
        (codec.parse_ws_token, {"token": "t", "expires": [900]}),  # TypeError
        (lambda r: orders.parse_add_order(r, "cl-1"), {"descr": [1], "txid": ["T"]}),
        (orders.parse_closed_orders, {"closed": {}, "count": [1]}),  # TypeError
        (orders.parse_trades_history, {"trades": {}, "count": {"a": 1}}),  # TypeError
        (codec.parse_cancel, {"count": "many"}),  # ValueError
        (codec.parse_cancel_after, []),
        (codec.parse_asset_pairs, {"XXLMZUSD": {"base": "XXLM", "quote": "ZUSD"}}),
    ],
)
def test_a_wrongly_shaped_result_is_a_codec_error(
    parse: Callable[[Any], object], result: object
) -> None:
    _refused(lambda: parse(result))


def test_nesting_deeper_than_the_stack_is_a_codec_error() -> None:
    body = '{"error":[],"result":' + "[" * 100_000 + "]" * 100_000 + "}"
    _refused(lambda: codec.decode_envelope(body, endpoint="x"))
    errors = '{"error":[' + "[" * 100_000 + "]" * 100_000 + "]}"
    _refused(lambda: codec.decode_envelope(errors, endpoint="x"))


@pytest.mark.parametrize("number", ["1e300000", "1E+300000", "-1e300000", "9" * 5000])
def test_a_huge_epoch_is_refused_at_once(number: str) -> None:
    body = _body("rest_openorders__real_roq_2026-01.json")
    hostile = body.replace('"opentm":1769057759.97471', f'"opentm":{number}', 1)
    assert hostile != body
    _refused(lambda: orders.parse_open_orders(codec.decode_envelope(hostile, endpoint="x").result))
    quoted = body.replace('"opentm":1769057759.97471', f'"opentm":"{number}"', 1)
    # Quoted, it is one order's field: that order is reported unreadable (never adopted, never
    # "absent"), the rest of the reply still read, and at once.
    with time_bound(FAST_S, lambda: "hostile body"):
        found = orders.parse_open_orders(codec.decode_envelope(quoted, endpoint="x").result)
    assert [u.order_id for u in found.unreadable] == ["OFIYM3-N4EEJ-2O6UKI"]


def test_a_huge_trade_count_is_refused_at_once() -> None:
    body = _body("rest_ticker_xxbtzusd__docs.json")
    hostile = body.replace('"t":[34619,38907]', '"t":[34619,"1e300000"]', 1)
    assert hostile != body
    _refused(lambda: codec.parse_ticker(codec.decode_envelope(hostile, endpoint="x").result))


@pytest.mark.parametrize("places", ["1e40", "-1", "2.5", str(MAX_DECIMALS + 1), "NaN"])
def test_decimal_places_must_be_a_small_count(places: str) -> None:
    with pytest.raises(codec.CodecError):
        decimals(places)
    body = _body("rest_assetpairs_xxlmzusd__php_test_circa2021.json")
    hostile = body.replace('"pair_decimals":6', f'"pair_decimals":"{places}"', 1)
    assert hostile != body
    _refused(lambda: codec.parse_asset_pairs(codec.decode_envelope(hostile, endpoint="x").result))


def test_real_bodies_still_parse_exactly() -> None:
    body = _body("rest_openorders__real_roq_2026-01.json")
    (first, *_) = orders.parse_open_orders(codec.decode_envelope(body, endpoint="x").result)
    assert first.open_ns == 1769057759974710000
    assert decimals(6) == 6 and decimals("8") == 8
