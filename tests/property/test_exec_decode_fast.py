"""The fast executions decoder gives exactly what the previous one gave (exec_decode_before.py):
the same reports, fills and counters, digit for digit, for recorded rows and for rows with
any field changed or removed; and the same refusal, message included, for bad rows. And
`slot_constructor` builds the objects the dataclass __init__ builds."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import DATA
from tests.property import exec_decode_before as before
from tests.property.test_exec_decode_shortcuts import ROWS

from krakenbot.domain.construct import slot_constructor
from krakenbot.domain.enums import ExecType, Liquidity, OrderStatus, Side
from krakenbot.domain.events import ExecutionReport, Fill, new_execution_report, new_fill
from krakenbot.domain.order_terms import OrderPrice
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import SequencedBatch
from krakenbot.kraken.ws_order_terms import _TERM_FIELDS, decode_terms, read_terms, term_values
from krakenbot.kraken.ws_private import decode_execution_rows

MESSAGES = DATA / "ws" / "real_messages"


def _outcome(decoder: Any, row: Any, snapshot: bool = False) -> str:
    """repr of the result (Decimals print their exact digits) or of the refusal."""
    try:
        return repr(decoder(row, snapshot, 7, 123))
    except Exception as exc:  # the refusal's kind and message are what is compared
        return f"refused: {exc!r}"


def test_recorded_rows_decode_the_same_either_way() -> None:
    assert len(ROWS) >= 10
    kinds = set()
    # As the simulator and Kraken send them with `ratecounter: true`: a counter on each report.
    counted = [row | {"ratecount": Decimal("12.50")} for row in ROWS]
    for row in ROWS + counted:
        for snapshot in (False, True):
            new = decode_execution_rows(row, snapshot, 7, 123)
            assert repr(new) == repr(before.decode_execution_rows(row, snapshot, 7, 123))
            kinds.update(type(item).__name__ for item in new)
            kinds.update(
                r.exec_type.value for r in new if isinstance(r, ExecutionReport) and r.fill
            )
    assert {"ExecutionReport", "RateCounter", "trade"} <= kinds  # fills, counters compared too


def test_recorded_frames_decode_to_the_same_batches() -> None:
    # Through the codec's entry point, as the session calls it.
    seen = 0
    for path in sorted(MESSAGES.glob("ws_executions*.json")):
        value = json.loads(path.read_text())
        for msg in value if isinstance(value, list) else [value]:
            frame = json.dumps(msg, separators=(",", ":"))
            (batch,) = decode(frame, 5)
            reparsed = json.loads(frame, parse_float=Decimal)
            snapshot, sequence = reparsed["type"] == "snapshot", reparsed.get("sequence")
            expected: list[Any] = []
            for row in reparsed["data"]:
                expected.extend(before.decode_execution_rows(row, snapshot, sequence, 5))
            built = SequencedBatch(
                channel="executions",
                is_snapshot=snapshot,
                sequence=sequence,
                items=tuple(expected),
                recv_ns=5,
            )
            assert type(batch) is SequencedBatch and repr(batch) == repr(built)
            seen += len(expected)
    assert seen >= 10


_words = st.sampled_from(
    [*(m.value for m in ExecType), *(m.value for m in Side), *(m.value for m in Liquidity),
     "new", "canceled", "partially_filled", "limit", "market", "stop-loss",
     "trailing-stop-limit", "stop-loss-limit", "static", "quote", "pct", "GTC", "gtd", "IOC",
     "last", "index", "BUY", "", "x", "2023-09-22T10:33:05.709950Z", "XBT", "USD"]
)  # fmt: skip
_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-1000, max_value=1000),
    st.sampled_from([Decimal("0"), Decimal("-0"), Decimal("0E-8"), Decimal("1.50")]),
    _words,
    st.text(max_size=4),
    st.just([]),
    st.just([{"asset": "USD", "qty": Decimal("0.1")}]),
    st.just({}),
    st.just({"reference": "index", "price": Decimal("5"), "price_type": "pct"}),
    st.just({"order_type": "stop-loss", "trigger_price": Decimal("-3"),
             "trigger_price_type": "quote"}),
)  # fmt: skip
_keys = st.sampled_from(
    sorted(
        _TERM_FIELDS
        | {key for row in ROWS for key in row}
        | {"ratecount", "fees", "liquidity_ind", "exec_id", "cl_ord_id", "post_only", "reason"}
    )
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(ROWS),
    st.dictionaries(_keys, _junk, max_size=5),
    st.sets(_keys, max_size=3),
    st.booleans(),
)
def test_changed_rows_decode_or_are_refused_the_same_either_way(
    base: dict[str, Any], changes: dict[str, Any], removed: set[str], snapshot: bool
) -> None:
    row = {k: v for k, v in base.items() if k not in removed} | changes
    assert _outcome(decode_execution_rows, row, snapshot) == _outcome(
        before.decode_execution_rows, row, snapshot
    )


_LIMIT_VALUES = [Decimal("-1.5"), Decimal("0"), Decimal("-0"), Decimal("26500.0"), "2", "-2", 3]
_LIMIT_TYPES = [None, "static", "quote", "pct", "bogus", 5]
_ORDER_TYPES = [None, "limit", "trailing-stop-limit", "stop-loss-limit", "market", "nope"]


@pytest.mark.parametrize("order_type", _ORDER_TYPES)
def test_every_kind_of_limit_price_decodes_or_is_refused_the_same_either_way(
    order_type: str | None,
) -> None:
    # The absolute-price shortcut must give way to the long way for anything but a
    # non-negative static price (negative ones are refused there, relative ones kept as such).
    base = next(r for r in ROWS if "limit_price" in r and r.get("order_type") == "limit")
    for value in _LIMIT_VALUES:
        for kind in _LIMIT_TYPES:
            row = base | {"order_type": order_type, "limit_price": value, "limit_price_type": kind}
            for key in ("order_type", "limit_price_type"):
                if row[key] is None:
                    del row[key]
            assert _outcome(decode_execution_rows, row) == _outcome(
                before.decode_execution_rows, row
            ), row


@given(st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.none(), max_size=2)))
def test_a_row_that_is_not_an_object_is_refused_the_same_either_way(row: Any) -> None:
    assert _outcome(decode_execution_rows, row) == _outcome(before.decode_execution_rows, row)


def test_terms_as_values_are_the_terms_fields() -> None:
    for row in ROWS:
        terms = decode_terms(row)
        assert term_values(row) == tuple(getattr(terms, f.name) for f in dataclasses.fields(terms))
        assert repr(read_terms(row)) == repr(before.read_terms(row))


# ---- slot_constructor ----------------------------------------------------------------------

_any_value = st.one_of(st.none(), st.integers(), st.text(max_size=3), st.decimals(allow_nan=False))


@given(
    st.lists(_any_value, min_size=29, max_size=29), st.lists(_any_value, min_size=12, max_size=12)
)
def test_slot_constructor_builds_what_the_dataclass_init_builds(
    report_values: list[Any], fill_values: list[Any]
) -> None:
    for cls, fast, values in (
        (ExecutionReport, new_execution_report, report_values),
        (Fill, new_fill, fill_values),
    ):
        made, expected = fast(*values), cls(*values)
        assert type(made) is cls and repr(made) == repr(expected) and made == expected
        assert hash(made) == hash(expected)
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.order_id = "changed"  # type: ignore[misc]


def test_slot_constructor_keeps_defaults_and_keywords() -> None:
    short = new_execution_report(ExecType.NEW, "O1", None, OrderStatus.OPEN, 5)
    assert short == ExecutionReport(ExecType.NEW, "O1", None, OrderStatus.OPEN, 5)
    keyed = new_execution_report(
        exec_type=ExecType.NEW, order_id="O1", cl_ord_id="c", order_status=OrderStatus.OPEN,
        exchange_ns=5, recv_ns=9,
    )  # fmt: skip
    assert repr(keyed) == repr(
        ExecutionReport(ExecType.NEW, "O1", "c", OrderStatus.OPEN, 5, recv_ns=9)
    )
    with pytest.raises(TypeError):
        new_execution_report(ExecType.NEW, "O1", None, OrderStatus.OPEN)  # type: ignore[call-arg]


@dataclasses.dataclass(frozen=True)
class _NoSlots:
    a: int


@dataclasses.dataclass(slots=True)
class _NotFrozen:
    a: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Factory:
    a: list[int] = dataclasses.field(default_factory=list)


@pytest.mark.parametrize("cls", [_NoSlots, _NotFrozen, _Factory, OrderPrice, dict])
def test_slot_constructor_refuses_classes_it_would_build_wrongly(cls: Any) -> None:
    # OrderPrice validates in __post_init__, which a slot constructor would skip.
    with pytest.raises(TypeError):
        slot_constructor(cls)
