"""The session's synchronous frame handling, fed real frames without a socket."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import aiohttp
import pytest
from tests.conftest import DATA

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import CancelOrder
from krakenbot.domain.enums import Channel
from krakenbot.domain.events import (
    BookStatus,
    BookTop,
    DecodeFailed,
    ExecutionReport,
    RateCounter,
    ReconcileRequested,
    SubscriptionFailed,
    Ticker,
)
from krakenbot.errors import ConfigError
from krakenbot.kraken.ws_codec import peek_ticker_symbol
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import Conn, WsSession, WsSessionConfig
from krakenbot.net.ws_trading import WsConnectionLostError

MESSAGES = DATA / "ws" / "real_messages"
RECORDING = DATA / "ws" / "book10_BTCUSD_2023-07-30.jsonl"


def _session(**kw: object) -> tuple[WsSession, InboundQueue]:
    q = InboundQueue()
    cfg = WsSessionConfig(symbols=("BTC/USD",), **kw)  # type: ignore[arg-type]
    return WsSession(cfg, q, clock=ManualClock(), rng=random.Random(1)), q


def test_peek_ticker_symbol() -> None:
    update = (MESSAGES / "ws_ticker_update__real_roq_ethusd.json").read_text().strip()
    assert peek_ticker_symbol(update) == "ETH/USD"
    snap = (MESSAGES / "ws_ticker_snapshot__real_roq_ethusdc.json").read_text().strip()
    assert peek_ticker_symbol(snap) is None  # snapshots take the normal path
    two = update.replace("}]}", '},{"symbol":"X/Y"}]}')
    assert peek_ticker_symbol(two) is None
    assert peek_ticker_symbol('{"channel":"book"}') is None
    assert peek_ticker_symbol(update[: len(update) // 2]) is None  # truncated


def test_ticker_updates_are_conflated_and_decoded_on_take() -> None:
    session, q = _session()
    conn = Conn(Channel.PUBLIC, "ws://x")
    frame = (MESSAGES / "ws_ticker_update__real_roq_ethusd.json").read_text().strip()
    for i in range(5):
        session.on_frame(conn, frame.replace("3215.88,", f"3215.8{i},", 1), 100 + i)
    (t,) = q.drain()
    assert isinstance(t, Ticker) and t.bid == Decimal("3215.84") and t.recv_ns == 104
    # A broken ticker frame surfaces as DecodeFailed when taken, never as an exception.
    session.on_frame(conn, frame[:-20], 1)
    (bad,) = q.drain()
    assert isinstance(bad, DecodeFailed)


def test_recorded_book_verifies_and_corruption_resubscribes() -> None:
    session, q = _session(book_decimals=(("BTC/USD", 1, 8),))
    conn = Conn(Channel.PUBLIC, "ws://x")
    lines = RECORDING.read_text().splitlines()
    for line in lines[:50]:
        session.on_frame(conn, line, 1)
    events = q.drain()
    assert isinstance(events[0], BookStatus) and events[0].verified
    tops = [e for e in events if isinstance(e, BookTop)]
    assert len(tops) == 1 and tops[0].verified  # conflated: only the latest view
    assert conn.outbox == []
    frame = json.loads(lines[50])
    frame["data"][0]["checksum"] += 1
    session.on_frame(conn, json.dumps(frame), 2)
    (status,) = [e for e in q.drain() if isinstance(e, BookStatus)]
    assert not status.verified and "checksum mismatch" in status.reason
    sent = [json.loads(t) for t in conn.outbox]
    assert [m["method"] for m in sent] == ["unsubscribe", "subscribe"]
    assert sent[1]["params"] == {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}
    # Updates are ignored until a snapshot verifies again.
    session.on_frame(conn, lines[51], 3)
    assert not [e for e in q.drain() if isinstance(e, BookTop)]
    session.on_frame(conn, lines[0], 4)
    assert any(isinstance(e, BookStatus) and e.verified for e in q.drain())


def _exec_frame(seq: int, exec_id: str | None, *, snapshot: bool = False) -> str:
    row: dict[str, object] = {
        "order_id": "O1",
        "cl_ord_id": "c1",
        "exec_type": "trade" if exec_id else "new",
        "order_status": "partially_filled" if exec_id else "new",
        "timestamp": "2024-01-01T00:00:00.000001Z",
    }
    if exec_id:
        row.update(
            exec_id=exec_id,
            trade_id=1,
            symbol="XLM/USD",
            side="buy",
            last_qty=10.00000000,
            last_price=0.100000,
            cost=1.00000,
            liquidity_ind="t",
            fees=[{"asset": "USD", "qty": 0.0040}],
        )
    return json.dumps(
        {
            "channel": "executions",
            "type": "snapshot" if snapshot else "update",
            "data": [row],
            "sequence": seq,
        }
    )


def test_private_gap_requests_snapshot_and_reconcile() -> None:
    session, q = _session()
    conn = Conn(Channel.PRIVATE, "ws://x", token="TOKEN")
    session.on_frame(conn, _exec_frame(1, None, snapshot=True), 1)
    session.on_frame(conn, _exec_frame(2, "T1"), 2)
    session.on_frame(conn, _exec_frame(2, "T1"), 3)  # duplicate
    session.on_frame(conn, _exec_frame(5, "T2"), 4)  # gap
    events = q.drain()
    fills = [e.fill.trade_id for e in events if isinstance(e, ExecutionReport) and e.fill]
    assert fills == ["T1", "T2"]
    assert any(isinstance(e, ReconcileRequested) and "gap: 2 -> 5" in e.reason for e in events)
    sent = [json.loads(t) for t in conn.outbox]
    assert [(m["method"], m["params"]["channel"]) for m in sent] == [
        ("unsubscribe", "executions"),
        ("subscribe", "executions"),
    ]
    assert sent[1]["params"]["snap_trades"] is True and sent[1]["params"]["token"] == "TOKEN"


def test_refused_private_subscription_drops_the_connection_for_a_new_token() -> None:
    session, q = _session()
    conn = Conn(Channel.PRIVATE, "ws://x", token="OLD")
    ack = json.dumps(
        {
            "method": "subscribe",
            "success": False,
            "error": "EAPI:Invalid token",
            "result": {"channel": "executions"},
        }
    )
    session.on_frame(conn, ack, 1)
    (failed,) = q.drain()
    assert isinstance(failed, SubscriptionFailed) and failed.error == "EAPI:Invalid token"
    assert conn.drop_reason is not None and "token" in conn.drop_reason


def test_repeated_book_failures_resubscribe_at_most_once_per_interval() -> None:
    clock = ManualClock()
    q = InboundQueue()
    session = WsSession(
        WsSessionConfig(symbols=("BTC/USD",), book_resync_min_interval_s=1.0),
        q,
        clock=clock,
        rng=random.Random(1),
    )
    conn = Conn(Channel.PUBLIC, "ws://x")
    lines = RECORDING.read_text().splitlines()
    # Without the decimals this lossy recording fails every snapshot: a failing book.
    session.on_frame(conn, lines[0], 1)
    assert len(conn.outbox) == 2
    conn.outbox.clear()
    session.on_frame(conn, lines[0], 2)
    assert conn.outbox == [] and session.books.books["BTC/USD"].resync_pending
    assert session._router.due_book_resyncs() == []
    clock.advance(1.0)
    due = [json.loads(t)["method"] for t in session._router.due_book_resyncs()]
    assert due == ["unsubscribe", "subscribe"]
    assert session._router.due_book_resyncs() == []
    assert [e.verified for e in q.drain() if isinstance(e, BookStatus)] == [False, False]


def test_config_is_validated() -> None:
    with pytest.raises(ConfigError):
        WsSessionConfig(book_depth=11)
    with pytest.raises(ConfigError):
        WsSessionConfig(ticker_event_trigger="sometimes")
    with pytest.raises(ConfigError):
        WsSessionConfig(heartbeat_interval_s=0)
    assert WsSessionConfig(book_depth=25).stale_after_s == 5.0


def test_rate_counters_naming_no_pair_are_kept_per_order() -> None:
    session, q = _session()
    conn = Conn(Channel.PRIVATE, "ws://x", token="TOKEN")
    session.on_frame(conn, _exec_frame(1, None, snapshot=True), 1)
    q.drain()
    rows = [
        {"exec_type": "canceled", "order_id": oid, "order_status": "canceled", "ratecount": n}
        for oid, n in (("OA", 9), ("OB", 17), ("OA", 10))
    ]
    for seq, row in enumerate(rows, start=2):
        frame = {"channel": "executions", "type": "update", "data": [row], "sequence": seq}
        session.on_frame(conn, json.dumps(frame), seq)
    counters = [e for e in q.drain() if isinstance(e, RateCounter)]
    # One slot per order: OB's reading survives, OA's latest wins over its older one.
    assert sorted((c.order_id, c.count) for c in counters) == [
        ("OA", Decimal("10")),
        ("OB", Decimal("17")),
    ]


class _ClosingSocket:
    """A private socket the peer has just aborted: aiohttp refuses the write."""

    closed = False

    async def send_str(self, data: str, compress: int | None = None) -> None:
        raise aiohttp.ClientConnectionResetError("Cannot write to closing transport")


async def test_a_trading_request_on_a_failing_socket_is_an_unknown_outcome_not_a_crash() -> None:
    # aiohttp's exception must not escape the net layer (the order loop would not know
    # it): the request may have left, so it is the ambiguous connection loss.
    session, _ = _session(private_url="ws://127.0.0.1:9/v2")
    conn = session._private
    conn.ws, conn.token = _ClosingSocket(), "tok"  # type: ignore[assignment]
    conn.ready.set()
    with pytest.raises(WsConnectionLostError):
        await session.trading.cancel_order(CancelOrder(order_id="OAAAAA-BBBBB-CCCCCC"))


def test_every_executions_snapshot_asks_for_a_reconciliation_after_its_reports() -> None:
    """A snapshot lists the orders open now: one that closed before the stream began (a
    cancel sent over REST before the subscription, say) is simply absent from it, so only a
    reconciliation started once the stream runs can find it — the first snapshot too. The
    request names what the snapshot listed (the core asks only for an unlisted order)."""
    session, q = _session()
    conn = Conn(Channel.PRIVATE, "ws://x", token="TOKEN")
    session.on_frame(conn, _exec_frame(1, None, snapshot=True), 1)
    snapshot = q.drain()
    assert isinstance(snapshot[0], ExecutionReport)
    asks = [e for e in snapshot if isinstance(e, ReconcileRequested)]
    listed = frozenset({snapshot[0].order_id, snapshot[0].cl_ord_id})
    assert [(e.reason, e.unless_listed) for e in asks] == [("executions snapshot", listed)]
    assert isinstance(snapshot[-1], ReconcileRequested)  # after the snapshot's reports
    session.on_frame(conn, _exec_frame(2, "T1"), 2)  # an update asks for nothing
    assert not [e for e in q.drain() if isinstance(e, ReconcileRequested)]
    # A trade row (snap_trades) lists no open order: its order may have closed since.
    session.on_frame(conn, _exec_frame(1, "T0", snapshot=True), 3)
    asks = [e for e in q.drain() if isinstance(e, ReconcileRequested)]
    assert [e.unless_listed for e in asks] == [frozenset()]
