"""The reader's shortcut for trading acks (`fast_method_response`) decodes exactly what the
full decoder does, or declines (None) so the full decoder handles the frame."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import DATA

from krakenbot.kraken.ws_acks import ACK_PREFIXES, canonical_ack, fast_method_response
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import MethodResponse

MESSAGES = DATA / "ws" / "real_messages"
ACKS = sorted(
    p.name
    for p in MESSAGES.glob("ws_*_ack*.json")
    if "subscribe" not in p.name  # subscription acks are not trading answers
)


def _frames() -> list[str]:
    """Each recorded ack as the compact frame Kraken sends (a vector listing several acks
    holds them in a JSON array)."""
    out = []
    for name in ACKS:
        value = json.loads((MESSAGES / name).read_text())
        for msg in value if isinstance(value, list) else [value]:
            out.append(json.dumps(msg, separators=(",", ":")))
    return out


FRAMES = _frames()


def test_every_recorded_trading_ack_is_taken_and_decoded_as_the_full_decoder_does() -> None:
    assert len(FRAMES) >= 12
    for text in FRAMES:
        fast = fast_method_response(text, 7)
        assert fast is not None, text
        assert [fast] == decode(text, 7), text


@pytest.mark.parametrize(
    "text",
    [
        # an integer past 64 bits (orjson makes it a float): the exact path reports it
        '{"method":"add_order","req_id":123456789012345678901234567890,"success":true}',
        '{"method":"add_order","req_id":1.0,"success":true}',
        '{"method":"add_order","req_id":1e999,"success":true}',
        '{"method":"add_order","result":{"order_id":5},"success":true}',
        '{"method":"add_order","result":{"order_id":"A","warnings":[1.50]},"success":true}',
        '{"method":"add_order","error":"\\ud800","success":false}',
        '{"method":"add_order","success":true}garbage',
        '{"method":"subscribe","result":{"channel":"executions"},"success":true}',
        '{"method":"pong","req_id":3}',
        '{"method":7}',
        '{"error":"EGeneral:Invalid arguments","channel":"book"}',
        "[1,2]",
        "{",
    ],
)
def test_anything_unusual_is_left_to_the_full_decoder(text: str) -> None:
    assert fast_method_response(text, 1) is None


def test_warnings_are_printed_by_the_exact_path() -> None:
    text = '{"method":"add_order","result":{"order_id":"A","warnings":[1.50]},"success":true}'
    (resp,) = decode(text, 1)
    assert isinstance(resp, MethodResponse) and resp.warnings == (str(Decimal("1.50")),)


_ids = st.text(st.characters(codec="utf-8"), max_size=12)


@given(
    method=st.sampled_from(["add_order", "cancel_order", "amend_order", "edit_order", "error"]),
    success=st.booleans(),
    req_id=st.none() | st.integers(-(2**70), 2**70),
    order_id=st.none() | _ids,
    cl_ord_id=st.none() | _ids,
    error=st.none() | _ids,
    count=st.none() | st.integers(0, 2**40) | st.floats(allow_nan=False),
    error_first=st.booleans(),
)
def test_fast_path_never_differs_from_the_full_decoder(
    method: str,
    success: bool,
    req_id: int | None,
    order_id: str | None,
    cl_ord_id: str | None,
    error: str | None,
    count: int | float | None,
    error_first: bool,
) -> None:
    result: dict[str, object] = {}
    for key, value in (("order_id", order_id), ("cl_ord_id", cl_ord_id), ("count", count)):
        if value is not None:
            result[key] = value
    msg: dict[str, object] = {"method": method, "result": result, "success": success}
    if error is not None:
        msg = {"error": error, **msg} if error_first else {**msg, "error": error}
    if req_id is not None:
        msg["req_id"] = req_id
    text = json.dumps(msg, separators=(",", ":"))
    assert text.startswith(ACK_PREFIXES)
    fast = fast_method_response(text, 3)
    if fast is not None:
        assert [fast] == decode(text, 3)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _ids
)


@given(
    method=st.sampled_from(["add_order", "cancel_order", "amend_order", "cancel_all", "x"]),
    success=_scalars,
    req_id=_scalars,
    error=_scalars,
    result=st.none()
    | _scalars
    | st.lists(st.dictionaries(st.sampled_from(["order_id", "cl_ord_id"]), _scalars), max_size=3)
    | st.dictionaries(
        st.sampled_from(
            [
                "order_id",
                "cl_ord_id",
                "order_userref",
                "count",
                "triggerTime",
                "currentTime",
                "amend_id",
                "other",
            ]
        ),
        _scalars,
    ),
    keys=st.permutations(["method", "success", "req_id", "error", "result"]),
    drop=st.sets(st.sampled_from(["success", "req_id", "error", "result"])),
)
def test_every_field_of_an_ack_is_decoded_as_the_full_decoder_does(
    method: str,
    success: object,
    req_id: object,
    error: object,
    result: object,
    keys: list[str],
    drop: set[str],
) -> None:
    """Every field the shortcut builds itself (order refs, count, trigger and current time,
    amend id), any JSON type in any of them, any key order, keys left out: the shortcut's
    answer is the full decoder's, or it declines."""
    values = {"method": method, "success": success, "req_id": req_id, "error": error}
    values["result"] = result
    msg = {k: values[k] for k in keys if k not in drop}
    text = json.dumps(msg, separators=(",", ":"))
    fast = fast_method_response(text, 5)
    if fast is not None:
        assert [fast] == decode(text, 5), text
    elif type(result) is dict and "warnings" not in result and text.startswith(ACK_PREFIXES):
        # Declined only for a value the full decoder refuses too (or a float it must read).
        assert not isinstance(decode(text, 5)[0], MethodResponse) or any(
            type(v) is float for v in (*msg.values(), *result.values())
        ), text


_wire_ids = st.text("ABCXYZabcxyz0189_-", min_size=1, max_size=64)
_stamps = st.text("0123456789T:.Z-", min_size=1, max_size=40)


@given(
    method=st.sampled_from(["add_order", "cancel_order"]),
    order_id=_wire_ids,
    cl_ord_id=st.none() | _wire_ids,
    cl_first=st.booleans(),
    success=st.booleans(),
    req_id=st.none() | st.integers(0, 10**18 - 1),
    req_first=st.booleans(),
    time_in=_stamps,
    time_out=_stamps,
)
def test_the_canonical_ack_is_read_by_the_shortcut_as_the_full_decoder_reads_it(
    method: str,
    order_id: str,
    cl_ord_id: str | None,
    cl_first: bool,
    success: bool,
    req_id: int | None,
    req_first: bool,
    time_in: str,
    time_out: str,
) -> None:
    """Every ack of the canonical shape (either id first, `req_id` first, last or absent)
    is taken by the one-regex shortcut, and read exactly as the full decoder reads it."""
    result = {"order_id": order_id}
    if cl_ord_id is not None:
        result = (
            {"cl_ord_id": cl_ord_id, **result} if cl_first else {**result, "cl_ord_id": cl_ord_id}
        )
    msg: dict[str, object] = {"method": method}
    if req_id is not None and req_first:
        msg["req_id"] = req_id
    msg.update(result=result, success=success, time_in=time_in, time_out=time_out)
    if req_id is not None and not req_first:
        msg["req_id"] = req_id
    text = json.dumps(msg, separators=(",", ":"))
    resp = canonical_ack(text, 9)
    assert resp is not None, text
    assert [resp] == decode(text, 9) and fast_method_response(text, 9) == resp


@given(
    text=st.sampled_from(FRAMES).flatmap(
        lambda frame: st.tuples(st.integers(0, len(frame)), st.text(max_size=3)).map(
            lambda cut: frame[: cut[0]] + cut[1] + frame[cut[0] :]
        )
    )
)
def test_whatever_the_shortcut_takes_is_read_as_the_full_decoder_reads_it(text: str) -> None:
    """Recorded acks with characters inserted anywhere: what the one-regex shortcut accepts
    (if anything) is exactly what the full decoder makes of it."""
    resp = canonical_ack(text, 4)
    if resp is not None:
        assert [resp] == decode(text, 4), text


def test_a_repeated_req_id_is_left_to_the_full_decoder() -> None:
    text = (
        '{"method":"add_order","req_id":1,"result":{"order_id":"O1"},"success":true,'
        '"time_in":"2026-01-21T12:33:34.457870Z","time_out":"2026-01-21T12:33:34.460575Z",'
        '"req_id":2}'
    )
    assert canonical_ack(text, 1) is None
    resp = fast_method_response(text, 1)
    assert resp is None or [resp] == decode(text, 1)


@pytest.mark.parametrize("req_id", ["05", "00", "-1", "1.0", "1e3", "1234567890123456789"])
def test_a_req_id_that_is_not_a_plain_json_integer_is_not_read_by_the_shortcut(
    req_id: str,
) -> None:
    """Leading zeros are not JSON; a sign, fraction or exponent and more than 18 digits are
    left to the decoders that own those rules."""
    text = (
        '{"method":"add_order","result":{"order_id":"O1"},"success":true,'
        '"time_in":"2026-01-21T12:33:34.457870Z","time_out":"2026-01-21T12:33:34.460575Z",'
        f'"req_id":{req_id}}}'
    )
    assert canonical_ack(text, 1) is None
