"""Fixtures for WebSocket session tests against the loopback simulator."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import random
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal

import aiohttp
import pytest

from krakenbot.clock import SystemClock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.events import BookTop, Event
from krakenbot.net.ws_backoff import Backoff
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import WsSession, WsSessionConfig
from krakenbot.sim import Sim, SimConfig, running_sim

WAIT_S = 10.0


def _sign(secret_b64: str, path: str, nonce: str, body: str) -> str:
    # Kraken API-Sign: HMAC-SHA512(b64decode(secret), path + SHA256(nonce + body)).
    digest = hashlib.sha256((nonce + body).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def token_provider(sim: Sim, counter: list[int] | None = None) -> Callable[[], Awaitable[str]]:
    """A tiny signed GetWebSocketsToken client (the REST client is another branch's work)."""

    async def fetch() -> str:
        path = "/0/private/GetWebSocketsToken"
        nonce = str(time.time_ns())
        body = urllib.parse.urlencode({"nonce": nonce})
        headers = {
            "API-Key": sim.api_key,
            "API-Sign": _sign(sim.api_secret, path, nonce, body),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(sim.rest_url + path, data=body, headers=headers) as resp,
        ):
            payload = await resp.json()
        if payload.get("error"):
            raise RuntimeError(f"token refused: {payload['error']}")
        if counter is not None:
            counter.append(1)
        return str(payload["result"]["token"])

    return fetch


@dataclass
class Collector:
    """Drains the session's inbound queue into a list the test can poll."""

    inbound: InboundQueue
    events: list[Event] = field(default_factory=list)
    paused: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while True:
            if self.paused.is_set():
                await asyncio.sleep(0.01)
                continue
            self.events.append(await self.inbound.get())

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(
        self, predicate: Callable[[Event], bool], *, within_s: float = WAIT_S, after: int = 0
    ) -> Event:
        deadline = time.monotonic() + within_s
        seen = after
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = max(seen, len(self.events))
            await asyncio.sleep(0.01)
        raise AssertionError(f"no matching event within {within_s} s")


def fast_config(sim: Sim, **overrides: object) -> WsSessionConfig:
    base: dict[str, object] = {
        "public_url": sim.ws_url,
        "private_url": sim.ws_auth_url,
        "symbols": ("XLM/USD",),
        "heartbeat_interval_s": 0.1,
        "stale_after_heartbeats": 5.0,
        "ping_interval_s": 0.3,
        "connect_timeout_s": 2.0,
        "backoff": Backoff(initial_s=0.05, cap_s=0.3),
        "backoff_reset_after_s": 5.0,
        "slow_close_delay_s": 0.5,
    }
    base.update(overrides)
    return WsSessionConfig(**base)  # type: ignore[arg-type]


def _verified_top(e: object) -> bool:
    return isinstance(e, BookTop) and e.verified and e.best_bid is not None


async def marketable_buy(events: Collector, cl_ord_id: str, qty: str = "20") -> PlaceOrder:
    """A limit buy 2% through the best ask of XLM/USD (fills at once in the sim)."""
    top = await events.wait_for(_verified_top)
    assert isinstance(top, BookTop) and top.best_ask is not None
    price = (top.best_ask * Decimal("1.02")).quantize(Decimal("0.000001"), rounding=ROUND_UP)
    return PlaceOrder(cl_ord_id, "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal(qty), price)


@asynccontextmanager
async def session_running(
    sim: Sim, *, private: bool = True, counter: list[int] | None = None, **overrides: object
) -> AsyncIterator[tuple[WsSession, Collector]]:
    inbound = InboundQueue()
    session = WsSession(
        fast_config(sim, **overrides),
        inbound,
        clock=SystemClock(),
        rng=random.Random(7),
        token_provider=token_provider(sim, counter) if private else None,
    )
    collector = Collector(inbound)
    async with asyncio.TaskGroup() as tg:
        run = tg.create_task(session.run())
        drain = tg.create_task(collector.run())
        try:
            yield session, collector
        finally:
            session.stop()
            await asyncio.wait_for(run, 5)
            drain.cancel()


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    cfg = SimConfig(
        pairs=("XLM/USD", "BTC/USD"),
        seed=3,
        heartbeat_s=0.1,
        feed_interval_s=0.05,
        balances={"USD": Decimal("1000"), "XLM": Decimal("500")},
    )
    async with running_sim(cfg) as s:
        yield s
