"""The streamed trading counter (`executions` with `ratecounter: true`) and its pair.

Kraken's executions page (docs.kraken.com/api/docs/websocket-v2/executions) says only that with
`ratecounter: true` "the rate-limit counter is included in the stream"; it names no field and
prints no example, and no real frame with the counter is known. These tests pin the decoder to
every shape that sentence allows: `ratecount` (the counterpart of the ack's documented
`maxratecount`) on a row of its own or on a report of any `exec_type`, integer or fractional,
quoted or not; and the real reports that name no `symbol` (`new`, `amended`, `canceled`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenbot.domain.events import DecodeFailed, ExecutionReport, RateCounter
from krakenbot.kraken.ratecount import CounterPairs
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import SequencedBatch

REAL = Path(__file__).resolve().parents[2] / "data" / "ws" / "real_messages"


def _frame(rows: list[Any], sequence: int = 7) -> str:
    msg = {"channel": "executions", "type": "update", "data": rows, "sequence": sequence}
    return json.dumps(msg)


def _items(frame: str) -> tuple[object, ...]:
    (batch,) = decode(frame)
    assert isinstance(batch, SequencedBatch)
    return batch.items


def test_counter_on_its_own_row() -> None:
    (item,) = _items(_frame([{"symbol": "XLM/USD", "ratecount": 12}]))
    assert item == RateCounter(symbol="XLM/USD", count=Decimal(12), recv_ns=0, order_id=None)


@pytest.mark.parametrize(
    ("raw", "text"),
    [("3", "3"), ("2.34", "2.34"), ("0.0", "0.0"), ('"17.5"', "17.5"), ("125", "125")],
)
def test_counter_number_text_is_exact(raw: str, text: str) -> None:
    frame = (
        '{"channel":"executions","type":"update","sequence":1,'
        '"data":[{"symbol":"XLM/USD","ratecount":%s}]}'
    )
    (item,) = _items(frame % raw)
    assert isinstance(item, RateCounter)
    assert item.count == Decimal(text) and str(item.count) == text


def test_real_reports_carrying_a_counter_keep_their_report_and_order_id() -> None:
    # Real frames (tests/data/ws/real_messages, from a live account on 2026-01-22, provenance in
    # the file name): pending_new names its symbol; new / amended / canceled do not.
    frames = json.loads(
        (REAL / "ws_executions_lifecycle_limit_amend_cancel__real_roq_2026-01-22.json").read_text()
    )
    seen: list[tuple[str, str, Decimal, str | None]] = []
    for n, frame in enumerate(frames):
        for row in frame["data"]:
            row["ratecount"] = n + 0.5
        items = _items(json.dumps(frame))
        report, counter = items
        assert isinstance(report, ExecutionReport) and isinstance(counter, RateCounter)
        seen.append((report.exec_type.value, counter.symbol, counter.count, counter.order_id))
    order = "OVN7VD-7VYHS-APBKHA"
    assert seen == [
        ("pending_new", "BTC/USDT", Decimal("0.5"), order),
        ("new", "", Decimal("1.5"), order),
        ("amended", "", Decimal("2.5"), order),
        ("amended", "", Decimal("3.5"), order),
        ("canceled", "", Decimal("4.5"), order),
    ]


def test_reports_without_a_counter_are_unchanged() -> None:
    frames = json.loads(
        (REAL / "ws_executions_lifecycle_limit_amend_cancel__real_roq_2026-01-22.json").read_text()
    )
    for frame in frames:
        items = _items(json.dumps(frame))
        assert [type(i) for i in items] == [ExecutionReport]


@pytest.mark.parametrize(
    "bad", [-1, "-0.5", "abc", None, True, [], {}, "NaN", "Infinity", "1e400000x"]
)
def test_malformed_counter_becomes_decode_failed_and_neighbours_survive(bad: object) -> None:
    rows = [
        {"symbol": "XLM/USD", "ratecount": bad},
        {"symbol": "XLM/USD", "ratecount": 4},
        {"exec_type": "new", "order_id": "O1", "order_status": "new", "ratecount": bad},
    ]
    items = _items(_frame(rows))
    assert [type(i) for i in items] == [DecodeFailed, RateCounter, DecodeFailed]
    assert isinstance(items[1], RateCounter) and items[1].count == 4


def test_row_with_neither_exec_type_nor_counter_is_malformed() -> None:
    (item,) = _items(_frame([{"symbol": "XLM/USD"}]))
    assert isinstance(item, DecodeFailed)


def test_counter_without_symbol_or_order_is_still_a_counter() -> None:
    (item,) = _items(_frame([{"ratecount": "9"}]))
    assert item == RateCounter(symbol="", count=Decimal(9), order_id=None)


# ---- which pair a reading belongs to -------------------------------------------------------


def test_named_pair_wins() -> None:
    pairs = CounterPairs()
    pairs.learn("O1", "BTC/USD")
    counter = RateCounter(symbol="XLM/USD", count=Decimal(3), order_id="O1")
    assert pairs.pairs_for(counter, ["XLM/USD", "BTC/USD"]) == ["XLM/USD"]


def test_order_id_resolves_a_symbol_less_reading() -> None:
    pairs = CounterPairs()
    pairs.learn("O1", "BTC/USD")
    counter = RateCounter(symbol="", count=Decimal(3), order_id="O1")
    assert pairs.pairs_for(counter, ["XLM/USD", "BTC/USD"]) == ["BTC/USD"]


def test_unknown_pair_applies_to_every_traded_pair() -> None:
    pairs = CounterPairs()
    counter = RateCounter(symbol="", count=Decimal(3), order_id="O-unknown")
    assert pairs.pairs_for(counter, ["XLM/USD", "BTC/USD"]) == ["BTC/USD", "XLM/USD"]
    assert pairs.pairs_for(RateCounter("", Decimal(1)), ["XLM/USD"]) == ["XLM/USD"]


def test_memory_is_bounded_and_forgets_the_oldest() -> None:
    pairs = CounterPairs(capacity=2)
    pairs.learn("O1", "A/USD")
    pairs.learn("O2", "B/USD")
    pairs.learn("O1", "A/USD")  # touched: now the newest
    pairs.learn("O3", "C/USD")
    assert pairs.pair_of("O2") is None
    assert (pairs.pair_of("O1"), pairs.pair_of("O3")) == ("A/USD", "C/USD")
    with pytest.raises(ValueError):
        CounterPairs(capacity=0)


@given(
    learned=st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from(["X/USD", "Y/USD"]))),
    symbol=st.sampled_from(["", "X/USD"]),
    order_id=st.none() | st.sampled_from("abcdefg"),
)
def test_a_reading_always_lands_somewhere_while_we_trade(
    learned: list[tuple[str, str]], symbol: str, order_id: str | None
) -> None:
    pairs = CounterPairs(capacity=3)
    for oid, pair in learned:
        pairs.learn(oid, pair)
    out = pairs.pairs_for(RateCounter(symbol, Decimal(1), order_id=order_id), ["X/USD", "Y/USD"])
    assert out and set(out) <= {"X/USD", "Y/USD"}
    if symbol:
        assert out == [symbol]
