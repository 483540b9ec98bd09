"""The simulator's WebSocket v2 surface over real loopback sockets."""

from __future__ import annotations

import asyncio
import json
import zlib
from decimal import Decimal
from typing import Any

import aiohttp
from simtest_helpers import RestClient, WsClient, is_channel, is_method

from krakenbot.sim import Sim


def _checksum(asks: dict[str, str], bids: dict[str, str]) -> int:
    def part(levels: list[tuple[str, str]]) -> str:
        return "".join(
            p.replace(".", "").lstrip("0") + q.replace(".", "").lstrip("0") for p, q in levels
        )

    top_asks = sorted(asks.items(), key=lambda kv: Decimal(kv[0]))[:10]
    top_bids = sorted(bids.items(), key=lambda kv: -Decimal(kv[0]))[:10]
    return zlib.crc32((part(top_asks) + part(top_bids)).encode())


class RawBook:
    """Client-side book built from raw JSON number text (never floats)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.asks: dict[str, str] = {}
        self.bids: dict[str, str] = {}

    def apply(self, data: dict[str, Any]) -> bool:
        for side, book in (("asks", self.asks), ("bids", self.bids)):
            for level in data[side]:
                if Decimal(level["qty"]) == 0:
                    book.pop(level["price"], None)
                else:
                    book[level["price"]] = level["qty"]
        self.asks = dict(sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))[: self.depth])
        self.bids = dict(sorted(self.bids.items(), key=lambda kv: -Decimal(kv[0]))[: self.depth])
        return _checksum(self.asks, self.bids) == data["checksum"]


async def _raw_frames(ws: aiohttp.ClientWebSocketResponse, n: int) -> list[dict[str, Any]]:
    out = []
    async with asyncio.timeout(5):
        while len(out) < n:
            out.extend(await _next_book(ws))
    return out


async def _next_book(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    while True:
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.TEXT
        # parse_float=str keeps the exact number text, as a careful client must.
        parsed = json.loads(msg.data, parse_float=str)
        if parsed.get("channel") == "book":
            return [parsed]


async def test_book_checksums_hold_across_many_updates(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    ws = await session.ws_connect(sim.ws_url)
    await ws.send_str(
        json.dumps(
            {
                "method": "subscribe",
                "params": {"channel": "book", "symbol": ["XLM/USD"], "depth": 10},
            }
        )
    )
    frames = await _raw_frames(ws, 1)  # the snapshot: the subscription is live
    sim.control.tick_feed(60)
    frames += await _raw_frames(ws, 39)
    book = RawBook(10)
    assert frames[0]["type"] == "snapshot"
    for frame in frames:
        assert book.apply(frame["data"][0]), frame
    while True:  # drain the rest of the burst
        try:
            async with asyncio.timeout(0.2):
                book.apply((await _next_book(ws))[0]["data"][0])
        except TimeoutError:
            break
    sim.control.faults.book_bad_checksum()
    sim.control.tick_feed(5)
    bad = await _raw_frames(ws, 1)
    assert not book.apply(bad[0]["data"][0])
    await ws.close()


async def test_subscribe_acks_per_symbol_and_errors(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    c = await WsClient.connect(session, sim.ws_url)
    status = await c.recv()
    assert status["channel"] == "status" and status["data"][0]["system"] == "online"
    await c.send("subscribe", 7, channel="ticker", symbol=["XLM/USD", "BTC/USD", "NOPE/USD"])
    acks = [await c.until(is_method("subscribe")) for _ in range(3)]
    assert [a.get("result", {}).get("symbol") for a in acks[:2]] == ["XLM/USD", "BTC/USD"]
    assert all(a["req_id"] == 7 for a in acks)
    assert acks[2]["error"] == "Currency pair not supported NOPE/USD"
    await c.send("subscribe", channel="nope")
    assert (await c.until(is_method("subscribe")))["error"] == "Subscription name invalid"
    await c.send("ping", 42)
    assert (await c.until(is_method("pong")))["req_id"] == 42
    await c.ws.send_str("not json")
    assert (await c.until(is_method("error")))["error"] == "Malformed request"
    hb = await c.until(is_channel("heartbeat"), within_s=3)
    assert hb == {"channel": "heartbeat"}
    await c.close()


async def test_private_lifecycle_and_sequence(
    sim: Sim, rest: RestClient, session: aiohttp.ClientSession
) -> None:
    token = (await rest.ok("GetWebSocketsToken"))["token"]
    c = await WsClient.connect(session, sim.ws_auth_url)
    await c.send("subscribe", channel="executions", token="bad")
    assert (await c.until(is_method("subscribe")))["error"] == "EAPI:Invalid token"
    await c.send("subscribe", channel="executions", token=token, snap_trades=True)
    snap = await c.until(is_channel("executions", "snapshot"))
    assert snap["sequence"] == 1
    await c.send("subscribe", channel="balances", token=token)
    bal = await c.until(is_channel("balances", "snapshot"))
    assert {r["asset"] for r in bal["data"]} >= {"USD", "XLM"}
    await c.send(
        "add_order",
        1,
        token=token,
        order_type="limit",
        side="buy",
        order_qty=40,
        limit_price=0.28,
        symbol="XLM/USD",
        cl_ord_id="life-1",
    )
    ack = await c.until(is_method("add_order"))
    assert ack["success"] and ack["result"]["cl_ord_id"] == "life-1"
    sim.control.set_mid("XLM/USD", Decimal("0.27"))
    reports = []
    while not reports or reports[-1]["data"][0]["exec_type"] != "filled":
        reports.append(await c.until(is_channel("executions", "update")))
    kinds = [r["data"][0]["exec_type"] for r in reports]
    assert kinds == ["pending_new", "new", "trade", "filled"]
    seqs = [r["sequence"] for r in reports]
    assert seqs == list(range(2, 2 + len(seqs)))
    trade = reports[2]["data"][0]
    assert trade["liquidity_ind"] == "m" and trade["last_price"] == 0.28
    upd = await c.until(is_channel("balances", "update"))
    assert {r["asset"] for r in upd["data"]} == {"USD", "XLM"}
    await c.send("cancel_order", 2, token=token, order_id=["OXXXXX-XXXXX-XXXXXX"])
    err = await c.until(is_method("cancel_order"))
    assert err["error"] == "EOrder:Unknown order"
    await c.close()


async def test_ws_add_order_errors_use_ws_wording(
    sim: Sim, rest: RestClient, session: aiohttp.ClientSession
) -> None:
    token = (await rest.ok("GetWebSocketsToken"))["token"]
    c = await WsClient.connect(session, sim.ws_auth_url)
    await c.send(
        "add_order",
        token=token,
        order_type="limit",
        side="buy",
        order_qty=1,
        limit_price=0.28,
        symbol="XLM/USD",
    )
    err = await c.until(is_method("add_order"))
    assert err["error"] == "EGeneral:Invalid arguments:volume minimum not met"
    await c.send(
        "add_order",
        token=token,
        order_type="limit",
        side="buy",
        order_qty=40,
        limit_price=0.2800001,
        symbol="XLM/USD",
    )
    assert (await c.until(is_method("add_order")))["error"] == "EOrder:Tick size check failed"
    await c.close()


async def test_garbage_requests_never_break_the_connection(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    c = await WsClient.connect(session, sim.ws_url)
    junk = [
        "[]",
        "1",
        '"x"',
        "{}",
        '{"method": 5}',
        '{"method": "subscribe", "params": []}',
        '{"method": "subscribe", "params": {"channel": "book", "symbol": "XLM/USD"}}',
        '{"method": "subscribe", "params": {"channel": "book", "symbol": [1, null]}}',
        '{"method": "subscribe", "params": {"channel": "book", "symbol": ["XLM/USD"], "depth": 7}}',
        '{"method": "add_order", "params": {"token": 5}}',
        '{"method": "unsubscribe", "params": {"channel": "ticker", "symbol": ["XLM/USD"]}}',
        '{"method": "nope"}',
    ]
    for text in junk:
        await c.ws.send_str(text)
    await c.send("ping", 99)
    pong = await c.until(is_method("pong"))
    assert pong["req_id"] == 99
    errors = [m for m in c.seen if isinstance(m, dict) and m.get("success") is False]
    assert len(errors) >= len(junk), errors
    await c.close()


async def test_double_subscribe_is_refused_and_unsubscribe_stops_updates(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    c = await WsClient.connect(session, sim.ws_url)
    await c.send("subscribe", channel="book", symbol=["XLM/USD"])
    await c.until(is_channel("book", "snapshot"))
    await c.send("subscribe", channel="book", symbol=["XLM/USD"], depth=25)
    assert (await c.until(is_method("subscribe")))["error"] == "Already subscribed"
    await c.send("unsubscribe", channel="book", symbol=["XLM/USD"])
    ack = await c.until(is_method("unsubscribe"))
    assert ack["success"] and ack["result"]["symbol"] == "XLM/USD"
    sim.control.tick_feed(20)
    await c.send("ping", 1)
    await c.until(is_method("pong"))
    assert not [m for m in c.seen if m.get("channel") == "book" and m.get("type") == "update"]
    await c.close()
