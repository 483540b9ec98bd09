"""WS v2 decoder on real and documented frames."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import DATA

from krakenbot.domain.enums import ExecType, Liquidity, OrderStatus, OrderType, Side, SystemState
from krakenbot.domain.events import (
    BalanceChange,
    Candle,
    DecodeFailed,
    ExecutionReport,
    MarketTrade,
    RateCounter,
    Ticker,
)
from krakenbot.kraken.ws_codec import decode, parse_timestamp_ns
from krakenbot.kraken.ws_messages import (
    BookMessage,
    Heartbeat,
    InstrumentMessage,
    MethodResponse,
    Pong,
    SequencedBatch,
    StatusMessage,
    SubscriptionAck,
)

MESSAGES = DATA / "ws" / "real_messages"


def _raw(name: str) -> str:
    return (MESSAGES / name).read_text().strip()


def _frames(path: Path) -> list[str]:
    """A file holds one frame, or an array of frames (lifecycle/acks files)."""
    text = path.read_text().strip()
    if text.startswith("["):
        return [json.dumps(m) for m in json.loads(text)]
    return [text]


def _one(name: str) -> object:
    out = decode(_raw(name), recv_ns=42)
    assert len(out) == 1, out
    return out[0]


@pytest.mark.parametrize(
    "path",
    sorted(p for p in MESSAGES.glob("ws_*.json") if "requests" not in p.name),
    ids=lambda p: p.name,
)
def test_every_real_frame_decodes_without_failure(path: Path) -> None:
    for frame in _frames(path):
        for msg in decode(frame):
            assert not isinstance(msg, DecodeFailed), msg
            if isinstance(msg, SequencedBatch):
                assert not any(isinstance(i, DecodeFailed) for i in msg.items), msg


def test_ticker_numbers_are_exact_decimals() -> None:
    t = _one("ws_ticker_snapshot__real_pricefeed_usdtusd.json")
    assert isinstance(t, Ticker)
    assert t.symbol == "USDT/USD"
    assert str(t.bid) == "0.99980" and str(t.high) == "1.00000"
    assert t.ask_qty == Decimal("1087605.70466858")
    assert t.change_pct == Decimal("0.01")
    assert t.exchange_ns == parse_timestamp_ns("2026-09-24T03:54:18.054886Z")
    assert t.recv_ns == 42


def test_book_snapshot_keeps_wire_text() -> None:
    b = _one("ws_book_snapshot__real_roq_ethusdt.json")
    assert isinstance(b, BookMessage)
    assert b.is_snapshot and b.symbol == "ETH/USDT"
    assert b.bids[0] == ("3215.98", "0.43374000")
    assert b.bids[3] == ("3215.60", "0.31899455")
    assert b.checksum == 1875479340


def test_book_update_and_string_priced_docs_example() -> None:
    b = _one("ws_book_update__real_roq_ethusdc.json")
    assert isinstance(b, BookMessage) and not b.is_snapshot
    assert b.asks == (("3213.71", "0.00000000"), ("3214.99", "5.11001334"))
    g = _one("ws_book_snapshot__docs_checksum_guide_btcusd.json")
    assert isinstance(g, BookMessage) and g.asks[0] == ("45285.2", "0.00100000")


def test_status_keeps_uint64_connection_id() -> None:
    s = _one("ws_status_update__real_pricefeed_uint64_connid.json")
    assert isinstance(s, StatusMessage)
    assert s.connection_id == 9471984923908980762
    assert s.event.state is SystemState.ONLINE


def test_heartbeat_pong_and_acks() -> None:
    assert isinstance(_one("ws_heartbeat__real.json"), Heartbeat)
    pong = _one("ws_pong__real_roq_2026-01.json")
    assert isinstance(pong, Pong) and pong.req_id == 694480169830934
    ack = _one("ws_subscribe_ack_executions__real_roq.json")
    assert isinstance(ack, SubscriptionAck)
    assert ack.success and ack.channel == "executions" and ack.maxratecount == 125
    assert len(ack.warnings) == 4
    err = _one("ws_subscribe_error_unsupported_pair__real_pricefeed.json")
    assert isinstance(err, SubscriptionAck)
    assert not err.success and err.symbol == "NOPE/USD"
    assert err.error == "Currency pair not supported NOPE/USD"


def test_trading_method_responses() -> None:
    ok = _one("ws_add_order_ack_success__real_roq.json")
    assert isinstance(ok, MethodResponse) and ok.success
    assert ok.orders[0].order_id == "OXZPAJ-ONWQU-KMAMPL"
    assert ok.orders[0].cl_ord_id == "3178d58d4d000200"
    bad = _one("ws_add_order_ack_error_volume_min__real_roq.json")
    assert isinstance(bad, MethodResponse) and not bad.success
    assert bad.error == "EGeneral:Invalid arguments:volume minimum not met"
    batch = _one("ws_batch_add_ack__docs.json")
    assert isinstance(batch, MethodResponse) and [o.order_userref for o in batch.orders] == [1, 2]
    cancel_all = _one("ws_cancel_all_ack__real_roq.json")
    assert isinstance(cancel_all, MethodResponse) and cancel_all.count == 3
    dms = _one("ws_cancel_all_orders_after_ack__docs.json")
    assert isinstance(dms, MethodResponse) and dms.trigger_time == "2023-09-21T15:51:09Z"
    malformed = _one("ws_error_malformed_request__real_roq.json")
    assert isinstance(malformed, MethodResponse) and malformed.method == "error"


def test_trade_and_ohlc() -> None:
    out = decode(_raw("ws_trade_snapshot__docs_maticusd.json"))
    assert all(isinstance(t, MarketTrade) for t in out) and len(out) == 2
    t = out[0]
    assert isinstance(t, MarketTrade)
    assert t.side is Side.BUY and t.ord_type is OrderType.LIMIT and t.trade_id == 4665846
    assert t.qty == Decimal("6423.46326")
    c = decode(_raw("ws_ohlc_snapshot__docs_algousd.json"))[0]
    assert isinstance(c, Candle) and c.interval_min == 5
    assert c.begin_ns == parse_timestamp_ns("2023-10-04T15:25:00Z")


def test_instrument_pairs() -> None:
    msg = _one("ws_instrument_snapshot__docs.json")
    assert isinstance(msg, InstrumentMessage)
    btc = next(p for p in msg.pairs if p.symbol == "BTC/USD")
    assert btc.price_precision == 1 and btc.qty_precision == 8


def test_execution_lifecycle_trade_report_has_exact_fill() -> None:
    frames = _frames(MESSAGES / "ws_executions_lifecycle_pending_new_trade__docs.json")
    batches = [decode(f)[0] for f in frames]
    assert all(isinstance(b, SequencedBatch) for b in batches)
    seqs = [b.sequence for b in batches if isinstance(b, SequencedBatch)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    reports = [i for b in batches if isinstance(b, SequencedBatch) for i in b.items]
    assert [r.exec_type for r in reports if isinstance(r, ExecutionReport)][:3] == [
        ExecType.PENDING_NEW,
        ExecType.NEW,
        ExecType.TRADE,
    ]
    trade = reports[2]
    assert isinstance(trade, ExecutionReport) and trade.fill is not None
    assert trade.order_status is OrderStatus.PARTIALLY_FILLED
    assert trade.fill.trade_id == "TGBB7L-HT5LX-J3BZ4A"
    assert trade.fill.price == Decimal("26599.9") and trade.fill.qty == Decimal("0.005")
    assert trade.fill.fee == Decimal("0.3458") and trade.fill.fee_asset == "USD"
    assert trade.fill.liquidity is Liquidity.TAKER and trade.fill.side is Side.SELL
    new = reports[1]
    assert isinstance(new, ExecutionReport) and new.order_status is OrderStatus.OPEN


def test_snapshot_and_empty_snapshot_carry_sequence() -> None:
    empty = _one("ws_executions_snapshot_empty__real_roq.json")
    assert isinstance(empty, SequencedBatch) and empty.is_snapshot and empty.sequence == 1
    assert empty.items == ()
    snap = _one("ws_executions_trades_snapshot__kraken-async-rs.json")
    assert isinstance(snap, SequencedBatch)
    assert all(isinstance(r, ExecutionReport) and r.is_snapshot for r in snap.items)


def test_balances_snapshot_and_update() -> None:
    snap = _one("ws_balances_snapshot__real_roq.json")
    assert isinstance(snap, SequencedBatch)
    row = snap.items[0]
    assert isinstance(row, BalanceChange) and row.is_snapshot and row.amount is None
    assert str(row.balance) == "100.00000000"
    upd = _one("ws_balances_update_trade__kraken-async-rs.json")
    assert isinstance(upd, SequencedBatch) and upd.sequence == 4
    row = upd.items[0]
    assert isinstance(row, BalanceChange) and row.amount == Decimal("-19.9743")


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        '{"channel":"book","type":"update","data":[{"symbol":"X/Y","bids":[{"price":1.0',
        "[1,2,3]",
        '{"channel":"book","type":"update","data":[{"symbol":"X/Y","bids":[{"price":true,"qty":1.0}]}]}',
        '{"channel":"book","type":"update","data":[{"symbol":"X/Y","bids":[{"price":"1.0","qty":"x"}]}]}',
        '{"channel":"ticker","type":"update","data":[{"symbol":"X/Y","bid":NaN}]}',
        '{"channel":"ticker","type":"snapshot","data":[{"symbol":"X/Y"}]}',
        '{"channel":"status","type":"update","data":[{"system":"sleeping"}]}',
        '{"channel":"nope","type":"update","data":[]}',
        '{"hello":1}',
        b"\xff\xfe",
    ],
)
def test_malformed_frames_become_decode_failed(frame: str | bytes) -> None:
    out = decode(frame, recv_ns=7)
    assert len(out) == 1 and isinstance(out[0], DecodeFailed)
    assert out[0].recv_ns == 7 and len(out[0].excerpt) <= 200


def test_bad_execution_row_does_not_hide_its_neighbours() -> None:
    frame = json.dumps(
        {
            "channel": "executions",
            "type": "update",
            "sequence": 9,
            "data": [
                {"exec_type": "warp", "order_id": "O1", "order_status": "new"},
                {
                    "exec_type": "new",
                    "order_id": "O2",
                    "order_status": "new",
                    "timestamp": "2024-01-01T00:00:00.000001Z",
                },
            ],
        }
    )
    (batch,) = decode(frame)
    assert isinstance(batch, SequencedBatch) and batch.sequence == 9
    assert isinstance(batch.items[0], DecodeFailed)
    assert isinstance(batch.items[1], ExecutionReport) and batch.items[1].order_id == "O2"


def test_timestamps() -> None:
    assert parse_timestamp_ns("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert parse_timestamp_ns("2023-10-04T15:25:00.000000001Z") % 1_000_000_000 == 1
    assert parse_timestamp_ns("2022-06-13T08:09:10.7890123") % 1_000_000_000 == 789012300


def test_ratecount_rows_become_rate_counters() -> None:
    # Kraken documents `ratecounter: true` but prints no example; accept the counter either on
    # its own row or alongside a report (both carry the pair's `symbol`).
    frame = json.dumps(
        {
            "channel": "executions",
            "type": "update",
            "sequence": 3,
            "data": [
                {"symbol": "XLM/USD", "ratecount": 4},
                {
                    "exec_type": "new",
                    "order_id": "O1",
                    "order_status": "new",
                    "symbol": "XLM/USD",
                    "ratecount": 5,
                },
            ],
        }
    )
    (batch,) = decode(frame)
    assert isinstance(batch, SequencedBatch)
    counters = [i for i in batch.items if isinstance(i, RateCounter)]
    assert [(c.symbol, c.count) for c in counters] == [("XLM/USD", 4), ("XLM/USD", 5)]
    assert sum(isinstance(i, ExecutionReport) for i in batch.items) == 1
