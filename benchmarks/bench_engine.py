"""Tick-to-order latency of the whole engine: WS book frame received → AddOrder sent.

Runs the real stack (`app.stack.open_stack`) against the loopback simulator: the sim moves
its mid, the public WebSocket session decodes and verifies the book, the engine runs a
strategy that answers every book view with one IOC buy below the ask (it never fills and
never rests, so no cancel is needed), the risk gate approves it, the order manager commits
the order row to SQLite (WAL) and hands it to the venue. Measured per order:

* live venue (the sim over loopback): from the book view's `recv_ns` (stamped when the
  session processed the frame) to the moment the signed AddOrder request is handed to
  aiohttp (a wrapping HTTP transport stamps it) — ledger commit included;
* paper venue: the same start to the moment `PaperVenue.place` is entered.

"of which engine" is the part up to `Venue.place` (decode hand-off, strategy, gate, ledger
commit, task switch); the rest of the live figure is the REST client (priority lock, per-key
nonce/rate state, signing) before the bytes go to aiohttp.

Prints median and p99 per venue. The sim runs the "pro" tier so the client's trading-rate
model (1 point per AddOrder) does not make orders wait within N=120 orders.

Usage: python benchmarks/bench_engine.py [N]
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from krakenbot.app.stack import Endpoints, StackTuning, TradingStack, open_stack
from krakenbot.clock import SystemClock
from krakenbot.config import Settings
from krakenbot.domain.commands import Intent, OrderIntent, PlaceOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop, Event
from krakenbot.domain.sections import ApiTier, Credentials, Secret
from krakenbot.engine.config import EngineConfig
from krakenbot.net.http import AiohttpTransport, HttpResponse
from krakenbot.risk.limits import RiskLimits
from krakenbot.sim import SimConfig, running_sim
from krakenbot.store import LedgerRepository, open_ledger
from krakenbot.strategy.base import StrategyView

XLM = "XLM/USD"


@dataclass
class Pinger:
    """Answers each new verified book with one IOC buy 1 % under the bid (never fills)."""

    name: str = "bench"
    stamps: list[int] = field(default_factory=list)
    armed: bool = False

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset({XLM})

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        if not (isinstance(event, BookTop) and event.verified and self.armed):
            return []
        inst, bid = view.instrument(XLM), event.best_bid
        if inst is None or bid is None:
            return []
        self.armed = False
        price = inst.quantize_price(bid * Decimal("0.99"))
        self.stamps.append(event.recv_ns)
        return [
            OrderIntent(
                symbol=XLM,
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                qty=inst.quantize_qty(Decimal("5") / price),
                limit_price=price,
                time_in_force=TimeInForce.IOC,
                tag="bench",
            )
        ]


class TimedTransport(AiohttpTransport):
    """aiohttp, with the time each AddOrder request is handed over."""

    def __init__(self, stamps: list[int]) -> None:
        super().__init__(user_agent="krakenbot-bench")
        self.stamps = stamps

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        if url.endswith("/AddOrder"):
            self.stamps.append(time.time_ns())
        return await super().request(method, url, body=body, headers=headers, timeout_s=timeout_s)


async def _awaited(service: Callable[[], Awaitable[None]]) -> None:
    """TaskGroup wants a coroutine; a stack service is any awaitable factory."""
    await service()


@asynccontextmanager
async def stack_for(
    tmp: Path,
    sim_urls: Endpoints,
    creds: Credentials | None,
    strategy: Pinger,
    transport: TimedTransport | None,
) -> AsyncIterator[TradingStack]:
    clock = SystemClock()
    db = await open_ledger(tmp / "bench.db", clock)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp / "data",
        allowed_pairs=(XLM,),
        kraken_api_tier=ApiTier.PRO,
        post_only=False,
        log_console=False,
    )
    limits = RiskLimits(
        allowed_symbols=frozenset({XLM}),
        max_trade_usd=Decimal("10"),
        min_order_usd=Decimal("1"),
        max_total_exposure_usd=Decimal("10"),
        max_positions=1,
        max_daily_loss_usd=Decimal("20"),
        post_only=False,
        max_orders_per_window=1_000_000,
    )
    tuning = StackTuning(
        engine=replace(EngineConfig(), tick_interval_s=1.0),
        risk=limits,
        transport=transport,
        paper_balances={"USD": Decimal("1000")},
    )
    try:
        async with (
            open_stack(
                settings,
                live=creds is not None,
                endpoints=sim_urls,
                credentials=creds,
                repo=LedgerRepository(db, clock),
                clock=clock,
                rng=random.Random(1),
                strategy=strategy,
                tuning=tuning,
            ) as stack,
            asyncio.TaskGroup() as tg,
        ):
            for name, service in stack.services():
                tg.create_task(_awaited(service), name=name)
            try:
                yield stack
            finally:
                stack.request_stop("bench over")
    finally:
        await db.close()


async def run_venue(live: bool, n: int) -> tuple[list[float], list[float]]:
    cfg = SimConfig(pairs=(XLM,), tier="pro", balances={"USD": Decimal("100000")})
    async with running_sim(cfg) as sim:
        sim.control.pause_feed()
        urls = Endpoints(sim.rest_url, sim.ws_url, sim.ws_auth_url)
        creds = Credentials(Secret(sim.api_key), Secret(sim.api_secret)) if live else None
        strategy = Pinger()
        sent: list[int] = []
        entered: list[int] = []
        transport = TimedTransport(sent) if live else None
        with tempfile.TemporaryDirectory() as tmp:
            async with stack_for(Path(tmp), urls, creds, strategy, transport) as stack:
                engine = stack.engine
                place = engine.venue.place

                async def timed_place(command: PlaceOrder) -> None:
                    entered.append(time.time_ns())
                    if not live:
                        sent.append(entered[-1])
                    await place(command)

                engine.venue.place = timed_place  # type: ignore[method-assign]
                mid = Decimal("0.290000")
                await _until(lambda: XLM in engine.core.books and engine.core.books[XLM].verified)
                for i in range(n):
                    strategy.armed = True
                    mid = mid + (Decimal("0.000050") if i % 2 else Decimal("-0.000050"))
                    sim.control.set_mid(XLM, mid)
                    want = i + 1

                    def settled(want: int = want) -> bool:
                        return len(sent) >= want and not engine.core.registry.live()

                    await _until(settled)
    engine_part = [(e - r) / 1e3 for r, e in zip(strategy.stamps, entered, strict=False)]
    total = [(s - r) / 1e3 for r, s in zip(strategy.stamps, sent, strict=False)]
    return engine_part, total


async def _until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll (0.5 ms) until `check()`; the bench measures with stamps, not with this loop."""
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110 - polling a plain predicate, bounded
            await asyncio.sleep(0.0005)


async def _idle(stack: TradingStack, cl_ord_id: str) -> None:
    """Wait until the last order's final state is in the ledger and the engine is idle, so
    each measured tick finds the engine free (orders are rare in real trading)."""
    repo = stack.engine.repo

    async def settled() -> bool:
        row = await repo.order_by_cl_ord_id(cl_ord_id)
        return row is not None and row.status.is_terminal

    async with asyncio.timeout(10):
        while not await settled():  # noqa: ASYNC110 - a ledger query, bounded
            await asyncio.sleep(0.001)
        quiet = 0
        while quiet < 5:  # the lock stayed free for five polls in a row
            quiet = 0 if stack.engine.lock.locked() else quiet + 1
            await asyncio.sleep(0.001)


def report(label: str, micros: list[float]) -> None:
    ordered = sorted(micros)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(
        f"{label:<24} n={len(ordered):4d}  median {statistics.median(ordered) / 1e3:7.3f} ms"
        f"  p99 {p99 / 1e3:7.3f} ms"
    )


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 120
    print("tick-to-order: WS book frame received -> AddOrder handed to the transport")
    print("(strategy + risk gate + SQLite commit of the order row + venue/REST client)")
    engine_part, total = await run_venue(True, n)
    report("sim: tick -> AddOrder", total)
    report("  of which engine", engine_part)
    engine_part, total = await run_venue(False, n)
    report("paper: tick -> place", total)


if __name__ == "__main__":
    asyncio.run(main())
