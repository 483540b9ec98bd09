"""The order journal's bytes (store/orderjournal_codec.py): every order round-trips exactly,
and no damaged line — a write cut short, a flipped byte, a foreign line — ever becomes an
order or stops the rest of the file from being read."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.store.orderjournal_codec import (
    JournaledOrder,
    decode,
    encode_order,
    encode_probe,
)

T = 1_767_225_600_000_000_000


def stop(cl_ord_id: str = "kb0mi9n60w05gba6ro", qty: str = "17.25") -> JournaledOrder:
    command = PlaceOrder(
        cl_ord_id=cl_ord_id,
        symbol="XLM/USD",
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        qty=D(qty),
        limit_price=None,
        time_in_force=TimeInForce.GTC,
        deadline_s=5.0,
        reduces_position=True,
        trigger_price=D("0.281030"),
    )
    return JournaledOrder(command, "protect", True, T)


def test_an_order_round_trips_exactly() -> None:
    entry = stop()
    data = encode_order(entry)
    assert data.startswith(b"\n") and data.endswith(b"\n") and data.count(b"\n") == 2
    decoded = decode(encode_probe() + data)
    assert decoded.orders == (entry,) and decoded.unreadable == () and decoded.probes == 1
    assert decoded.orders[0].command.trigger_price == D("0.281030")  # the exact text


def test_a_write_cut_short_loses_only_itself() -> None:
    first, second = stop("kbfirst00000000001"), stop("kbsecond0000000002")
    torn = encode_order(first)[:-30]  # the disk filled up mid-write: never sent
    decoded = decode(torn + encode_order(second))
    assert [o.command.cl_ord_id for o in decoded.orders] == ["kbsecond0000000002"]
    [problem] = decoded.unreadable
    assert problem.startswith("line 2:") and "checksum" in problem


def test_a_torn_last_line_is_reported_not_raised() -> None:
    decoded = decode(encode_order(stop())[:50])
    assert decoded.orders == () and len(decoded.unreadable) == 1


def test_an_order_journaled_twice_counts_once() -> None:
    entry = stop()
    assert decode(encode_order(entry) * 2).orders == (entry,)


def _line(doc: dict[str, object]) -> bytes:
    body = json.dumps(doc).encode()
    return b"\n%08x %s\n" % (zlib.crc32(body), body)


def _good() -> dict[str, object]:
    body = encode_order(stop()).strip().split(b" ", 1)[1]
    doc = json.loads(body)
    assert isinstance(doc, dict)
    return doc


def test_records_with_a_valid_checksum_but_bad_fields_are_refused() -> None:
    bad: list[dict[str, object]] = [
        {**_good(), "qty": "NaN"},
        {**_good(), "qty": "-1"},
        {**_good(), "qty": 17},
        {**_good(), "trigger_price": "1e999999"},
        {**_good(), "side": "short"},
        {**_good(), "order_type": "teleport"},
        {**_good(), "cl_ord_id": ""},
        {**_good(), "post_only": "yes"},
        {**_good(), "created_ns": -5},
        {**_good(), "created_ns": 1.5},
        {**_good(), "expire_s": float("inf")},
        {**_good(), "kind": "cancel"},
        {**_good(), "v": 2},
        {k: v for k, v in _good().items() if k != "tag"},
    ]
    decoded = decode(b"".join(_line(doc) for doc in bad) + b"\nnot a record at all\n")
    assert decoded.orders == ()
    assert len(decoded.unreadable) == len(bad) + 1


def test_an_overlong_line_is_refused_before_it_is_parsed() -> None:
    decoded = decode(b"\n" + b"0" * 10_000 + b"\n" + encode_order(stop()))
    assert len(decoded.orders) == 1 and "too long" in decoded.unreadable[0]


money = st.decimals(min_value=D("0.00000001"), max_value=D("1e9"), places=8, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    qty=money,
    price=st.none() | money,
    trigger=st.none() | money,
    side=st.sampled_from(Side),
    kind=st.sampled_from(OrderType),
    tif=st.sampled_from(TimeInForce),
    tag=st.text(max_size=20),
    created=st.integers(min_value=0, max_value=2**62),
    expire=st.none() | st.floats(min_value=0, max_value=1e6),
)
def test_every_order_round_trips(
    qty: D,
    price: D | None,
    trigger: D | None,
    side: Side,
    kind: OrderType,
    tif: TimeInForce,
    tag: str,
    created: int,
    expire: float | None,
) -> None:
    command = PlaceOrder(
        "kbprop000000000001", "XLM/USD", side, kind, qty, price, tif, expire_s=expire
    )
    command = PlaceOrder(**{**_fields(command), "trigger_price": trigger})
    entry = JournaledOrder(command, tag, False, created)
    assert decode(encode_order(entry)).orders == (entry,)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), cut=st.integers(min_value=0, max_value=400))
def test_decode_never_raises_on_damaged_bytes(data: bytes, cut: int) -> None:
    mixed = encode_order(stop())[:cut] + data + encode_order(stop("kbafter00000000001"))
    decoded = decode(mixed)
    assert "kbafter00000000001" in {o.command.cl_ord_id for o in decoded.orders}


def _fields(command: PlaceOrder) -> dict[str, object]:
    return {name: getattr(command, name) for name in PlaceOrder.__dataclass_fields__}
