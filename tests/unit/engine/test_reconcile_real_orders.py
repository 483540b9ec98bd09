"""Every real Kraken order payload goes through the whole start-up reconciliation: the
engine's `reconcile("start-up")` over the live venue (`KrakenVenue` + `RestClient`, signed
requests) whose HTTP transport answers with the recorded OpenOrders / ClosedOrders /
QueryOrders replies, then the recorded `executions` frames as the private WebSocket would
deliver them. Orders that are not ours are reported, never adopted, and never halt trading.

On the code before issue 13 the trailing stop (`descr.price: "+50.0000%"`) made the start-up
reconciliation fail (`run --live` exit 7)."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from decimal import Decimal as D
from pathlib import Path

import pytest
from enginekit import quiet_engine
from tests.conftest import DATA
from tests.instruments import XLM
from tests.kraken_http import ScriptedKraken, rest_client

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderStatus, OrderType, Side, TradingState
from krakenbot.domain.events import DecodeFailed, ExecutionReport
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import SequencedBatch
from krakenbot.net.kraken_venue import KrakenVenue
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import WsSession, WsSessionConfig
from krakenbot.store import LedgerRepository, open_ledger

REST = DATA / "rest"
WS = DATA / "ws" / "real_messages"
START_NS = 1_769_100_000_000_000_000
EMPTY = {
    "OpenOrders": {"open": {}},
    "ClosedOrders": {"closed": {}, "count": 0},
    "QueryOrders": {},
    "TradesHistory": {"trades": {}, "count": 0},
    "Balance": {"ZUSD": "100.0000"},
}
KIND = {"openorders": "OpenOrders", "closedorders": "ClosedOrders", "queryorders": "QueryOrders"}
PAYLOADS = sorted(p.name for p in REST.glob("rest_*orders*.json") if p.name.split("_")[1] in KIND)
LOCAL_TXID = "OLOCAL-AAAAA-BBBBBB"


def recorded(results: Mapping[str, object]) -> ScriptedKraken:
    """Each Kraken method answered with a recorded (bytes) or empty result."""
    return ScriptedKraken(lambda method, form: results[method])


def venue_for(tmp_path: Path, transport: ScriptedKraken, clock: ManualClock) -> KrakenVenue:
    rest = rest_client(tmp_path / "keys", transport, clock)
    session = WsSession(
        WsSessionConfig(symbols=()), InboundQueue(), clock=clock, rng=random.Random(1)
    )
    return KrakenVenue(rest, session, {"XLM/USD": XLM}, clock=clock)


def payload(name: str) -> dict[str, object]:
    doc = json.loads((REST / name).read_text(), parse_float=D)
    result = doc["result"]
    assert isinstance(result, dict)
    return result


def open_entries(name: str) -> dict[str, object]:
    result = payload(name)
    listed = result.get("open") if "open" in result else None
    return dict(listed) if isinstance(listed, dict) else {}


@pytest.mark.parametrize("name", PAYLOADS)
async def test_every_real_order_payload_passes_the_start_up_reconciliation(
    tmp_path: Path, name: str
) -> None:
    clock = ManualClock(start_ns=START_NS)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    method = KIND[name.split("_")[1]]
    transport = recorded({**EMPTY, method: (REST / name).read_bytes()})
    try:
        if method == "QueryOrders":
            # One of our orders that the lists do not show: its lookup gets the recording.
            cmd = PlaceOrder(
                "kb0000000000000001", "XLM/USD", Side.BUY, OrderType.LIMIT, D("30"), D("0.289")
            )
            await repo.insert_order(cmd, status=OrderStatus.OPEN, txid=LOCAL_TXID)
        engine = quiet_engine(venue_for(tmp_path, transport, clock), repo, clock)
        await engine.load()
        assert await engine.reconcile("start-up") >= 0, engine.health().last_error
        assert engine.core.trading_state is TradingState.ACTIVE
        rows = [e.payload for e in await repo.events("reconcile")]
        assert not [r for r in rows if r["kind"] in ("conflict", "adopt_order")], rows
        foreign = {r["order_id"] for r in rows if r["kind"] == "foreign_order"}
        assert foreign == set(open_entries(name))  # every open order reported as foreign
        assert not [r for r in rows if r["kind"] == "foreign_unreadable"]
        assert {o.cl_ord_id for o in engine.core.registry.all()} <= {"kb0000000000000001"}
        if method == "QueryOrders":
            assert "QueryOrders" in transport.calls
    finally:
        await db.close()


def execution_frames() -> list[str]:
    frames: list[str] = []
    for path in sorted(WS.glob("ws_executions_*.json")):
        text = path.read_text().strip()
        docs = json.loads(text)
        frames += [json.dumps(d) for d in docs] if isinstance(docs, list) else [text]
    return frames


async def test_real_execution_reports_after_start_up_leave_foreign_orders_alone(
    tmp_path: Path,
) -> None:
    """The trailing-stop account starts; then every recorded `executions` frame arrives (all
    about orders that are not ours): none fails to decode, none is adopted, trading goes on,
    and nothing is ever cancelled (no CancelOrder / CancelAll request is made)."""
    clock = ManualClock(start_ns=START_NS)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    name = "rest_openorders_trailing_stop__ccxt_2024-02_stringified.json"
    transport = recorded({**EMPTY, "OpenOrders": (REST / name).read_bytes()})
    try:
        engine = quiet_engine(venue_for(tmp_path, transport, clock), repo, clock)
        await engine.load()
        assert await engine.reconcile("start-up") >= 0
        reports = 0
        for frame in execution_frames():
            for msg in decode(frame, recv_ns=clock.now_ns()):
                assert isinstance(msg, SequencedBatch), msg
                for item in msg.items:
                    assert not isinstance(item, DecodeFailed), item
                    if isinstance(item, ExecutionReport):
                        reports += 1
                        await engine.post(item)
        assert reports >= 15
        await engine.reconcile("after the stream")
        assert engine.core.trading_state is TradingState.ACTIVE and engine.core.registry.all() == []
        assert not {"CancelOrder", "CancelAll", "CancelOrderBatch"} & set(transport.calls)
    finally:
        await db.close()
