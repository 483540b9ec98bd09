"""Pure session state: book verification/resync, private sequence tracking, conflation, backoff."""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal

from tests.conftest import DATA

from krakenbot.domain.enums import ExecType, OrderStatus, Side
from krakenbot.domain.events import BookTop, ExecutionReport, Fill, MarketTrade, OrderType, Ticker
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import BookMessage, SequencedBatch
from krakenbot.net.ws_backoff import Backoff
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_tracking import BookKeeper, BookOutcome, SequenceTracker

BOOK10 = DATA / "ws" / "book10_BTCUSD_2023-07-30_python-kraken-sdk.json"


def _book_msgs() -> list[BookMessage]:
    data = json.loads(BOOK10.read_text())
    out = []
    for raw in [data["init"], *data["updates"]]:
        (msg,) = decode(json.dumps(raw))
        assert isinstance(msg, BookMessage)
        out.append(msg)
    return out


def test_keeper_verifies_recorded_session_and_flags_corruption() -> None:
    msgs = _book_msgs()
    keeper = BookKeeper(10, {"BTC/USD": (1, 8)})
    outcomes = [keeper.on_message(m)[0] for m in msgs]
    assert outcomes[0] is BookOutcome.VERIFIED
    assert all(o is BookOutcome.APPLIED for o in outcomes[1:])
    # Corrupt one update's checksum: the book goes invalid, updates are ignored until a
    # snapshot arrives and verifies.
    keeper = BookKeeper(10, {"BTC/USD": (1, 8)})
    keeper.on_message(msgs[0])
    bad = BookMessage("BTC/USD", False, msgs[1].bids, msgs[1].asks, 1, 0)
    outcome, st = keeper.on_message(bad)
    assert outcome is BookOutcome.INVALID and not st.valid and len(st.book) == 0
    assert keeper.on_message(msgs[2])[0] is BookOutcome.IGNORED
    assert keeper.on_message(msgs[0])[0] is BookOutcome.VERIFIED


def test_keeper_without_decimals_rejects_lossy_text() -> None:
    keeper = BookKeeper(10)
    assert keeper.on_message(_book_msgs()[0])[0] is BookOutcome.INVALID


def test_non_ascii_digits_never_reach_the_book_and_never_raise() -> None:
    # Arabic-Indic digits are digits to Decimal and to `\\d`, but not to Kraken's checksum.
    digits = "\u0661\u0660.5"
    frame = (
        '{"channel":"book","type":"snapshot","data":[{"symbol":"X/Y","bids":[{"price":"'
        + digits
        + '","qty":"1.0"}],"asks":[],"checksum":1}]}'
    )
    (item,) = decode(frame)
    assert not isinstance(item, BookMessage)  # rejected by the codec: DecodeFailed
    # And if such text reached the keeper anyway, the book goes invalid instead of raising.
    keeper = BookKeeper(10)
    outcome, st = keeper.on_message(BookMessage("X/Y", True, ((digits, "1.0"),), (), 1, 0))
    assert outcome is BookOutcome.INVALID and not st.valid


def _report(seq: int, exec_id: str | None = None, *, snapshot: bool = False) -> ExecutionReport:
    fill = None
    if exec_id is not None:
        fill = Fill(
            exec_id,
            "O1",
            "c1",
            "XLM/USD",
            Side.BUY,
            Decimal("0.1"),
            Decimal("10"),
            Decimal("1"),
            Decimal("0.004"),
            "USD",
            None,
            0,
        )
    return ExecutionReport(
        exec_type=ExecType.TRADE if fill else ExecType.NEW,
        order_id="O1",
        cl_ord_id="c1",
        order_status=OrderStatus.PARTIALLY_FILLED if fill else OrderStatus.OPEN,
        exchange_ns=0,
        fill=fill,
        is_snapshot=snapshot,
        sequence=seq,
    )


def _batch(seq: int, *items: ExecutionReport, snapshot: bool = False) -> SequencedBatch:
    return SequencedBatch("executions", snapshot, seq, items)


def test_tracker_dedupes_fills_and_detects_gaps() -> None:
    t = SequenceTracker("executions")
    assert t.on_batch(_batch(1, _report(1, "T1", snapshot=True), snapshot=True)).items
    r = t.on_batch(_batch(2, _report(2)))
    assert len(r.items) == 1 and r.resync_reason is None
    # The same push again (same sequence): dropped.
    r = t.on_batch(_batch(2, _report(2)))
    assert r.items == [] and r.dropped == 1
    # A gap: delivered, and a resync is requested.
    r = t.on_batch(_batch(4, _report(4, "T2")))
    assert len(r.items) == 1 and r.resync_reason == "executions sequence gap: 2 -> 4"
    assert t.awaiting_snapshot
    # The late seq 3 carries a fill we have not seen: only that fill is delivered.
    r = t.on_batch(_batch(3, _report(3), _report(3, "T3")))
    assert [i.fill.trade_id for i in r.items if isinstance(i, ExecutionReport) and i.fill] == ["T3"]
    # A repeat of seq 4 while the fresh snapshot is on its way is still caught.
    assert t.on_batch(_batch(4, _report(4))).items == []
    # A second gap before the snapshot does not ask for another resync.
    assert t.on_batch(_batch(7, _report(7))).resync_reason is None
    # A fresh snapshot re-sending old fills delivers none of them twice.
    r = t.on_batch(_batch(1, _report(1, "T1"), _report(1, "T2"), _report(1, "T4"), snapshot=True))
    assert [i.fill.trade_id for i in r.items if isinstance(i, ExecutionReport) and i.fill] == ["T4"]
    assert t.last_sequence == 1


def _ticker(symbol: str, bid: str) -> Ticker:
    return Ticker(symbol, (bid,) * 11, 0)  # type: ignore[arg-type]


async def test_inbound_conflates_market_data_but_keeps_order_and_account_events() -> None:
    q = InboundQueue()
    report = _report(1, "T1")
    q.put_latest(("ticker", "A"), _ticker("A", "1"))
    q.put(report)
    q.put_latest(("ticker", "A"), _ticker("A", "2"))
    q.put_latest(("ticker", "B"), _ticker("B", "5"))
    q.put_latest(("ticker", "A"), _ticker("A", "3"))
    got = q.drain()
    assert [type(e).__name__ for e in got] == ["Ticker", "ExecutionReport", "Ticker"]
    assert isinstance(got[0], Ticker) and got[0].bid == Decimal("3")
    assert q.stats.coalesced == 2
    # After the consumer took it, a new ticker queues again.
    q.put_latest(("ticker", "A"), _ticker("A", "4"))
    assert len(q) == 1
    assert isinstance(await asyncio.wait_for(q.get(), 1), Ticker)


def test_inbound_thunks_are_built_when_consumed() -> None:
    q = InboundQueue()
    calls: list[int] = []

    def view() -> BookTop:
        calls.append(1)
        return BookTop("A", (), (), True, 0)

    q.put_latest(("book", "A"), view)
    q.put_latest(("book", "A"), view)
    assert calls == []
    assert isinstance(q.get_nowait(), BookTop) and calls == [1]


def test_inbound_caps_public_trades_only() -> None:
    q = InboundQueue(max_pending_trades=2)
    trade = MarketTrade("A", Side.BUY, Decimal(1), Decimal(1), OrderType.LIMIT, 1, 0)
    for _ in range(5):
        q.put(trade)
    for i in range(5):
        q.put(_report(i))
    assert len(q) == 7 and q.stats.trades_dropped == 3


def test_backoff_is_capped_jittered_and_growing() -> None:
    b = Backoff(initial_s=1.0, cap_s=8.0)
    rng = random.Random(1)
    delays = [b.delay(a, rng) for a in range(8)]
    assert all(0.5 <= d <= 8.0 for d in delays)
    assert delays[0] <= 1.0 and delays[-1] >= 4.0
    assert b.delay(3, random.Random(2)) != b.delay(3, random.Random(3))
