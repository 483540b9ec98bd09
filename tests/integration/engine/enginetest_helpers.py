"""Helpers for the engine's loopback tests: a sim, a ledger, a running stack, scripted
strategies (waits use tests/eventually.py, never a fixed sleep)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.eventually import eventually

from krakenbot.app.trading_stack import Endpoints, StackTuning, TradingStack, open_stack
from krakenbot.clock import SystemClock
from krakenbot.config import Settings
from krakenbot.domain.commands import CancelIntent, Intent, OrderIntent
from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop, Event
from krakenbot.domain.order import Order
from krakenbot.domain.sections import Credentials, Secret
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.reconciler import ReconcileConfig
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.orders.manager import ManagerConfig
from krakenbot.sim import Sim, SimConfig, running_sim
from krakenbot.store import open_ledger
from krakenbot.store.repository import LedgerRepository
from krakenbot.strategy.base import Strategy, StrategyView
from krakenbot.strategy.mean_reversion import MeanReversion, MeanReversionParams

XLM = "XLM/USD"


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_path": tmp_path / "trading.db",
        "allowed_pairs": (XLM,),
        "max_trade_size": Decimal("10"),
        "max_total_exposure": Decimal("10"),
        "min_order_size": Decimal("1"),
        "max_positions": 1,
        "max_daily_losses": Decimal("20"),
        "post_only": True,
        "log_console": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def fast_tuning(**engine: Any) -> StackTuning:
    config = EngineConfig(
        tick_interval_s=0.05,
        metrics_interval_s=0.5,
        manager=ManagerConfig(order_timeout_s=30.0, cancel_retry_s=1.0, ack_timeout_s=5.0),
        reconcile=ReconcileConfig(interval_s=30.0, min_gap_s=0.05, absent_after_s=2.0),
    )
    return StackTuning(
        engine=replace(config, **engine),
        order_deadline_s=2.0,
        deadline_grace_s=0.2,
        ws_heartbeat_s=1.0,
    )


@dataclass
class Scripted:
    """A strategy the test steers: intents queued by the test go out on the next book view;
    it records what it saw."""

    name: str = "scripted"
    symbol: str = XLM
    also: tuple[str, ...] = ()  # further pairs to subscribe to
    queue: list[Callable[[StrategyView], Sequence[Intent]]] = field(default_factory=list)
    seen: list[Event] = field(default_factory=list)

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset({self.symbol, *self.also})

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        self.seen.append(event)
        if not isinstance(event, BookTop) or not event.verified or not self.queue:
            return []
        out: list[Intent] = []
        for make in self.queue:
            out.extend(make(view))
        self.queue.clear()
        return out

    def later(self, make: Callable[[StrategyView], Sequence[Intent]]) -> None:
        self.queue.append(make)

    def books(self) -> list[BookTop]:
        return [e for e in self.seen if isinstance(e, BookTop) and e.verified]


def buy(qty: str, price: Decimal | str, **kw: Any) -> OrderIntent:
    values: dict[str, Any] = {
        "symbol": XLM,
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": Decimal(qty),
        "limit_price": Decimal(price),
        "post_only": True,
        "tag": "entry",
    }
    values.update(kw)
    return OrderIntent(**values)


def sell(qty: str, price: Decimal | str, **kw: Any) -> OrderIntent:
    values: dict[str, Any] = {
        "symbol": XLM,
        "side": Side.SELL,
        "order_type": OrderType.LIMIT,
        "qty": Decimal(qty),
        "limit_price": Decimal(price),
        "time_in_force": TimeInForce.GTC,
        "post_only": False,
        "reduces_position": True,
        "tag": "exit",
    }
    values.update(kw)
    return OrderIntent(**values)


def cancel(cl_ord_id: str) -> CancelIntent:
    return CancelIntent(cl_ord_id, "test")


@asynccontextmanager
async def sim_for_engine(**overrides: Any) -> AsyncIterator[Sim]:
    config = SimConfig(
        pairs=overrides.pop("pairs", (XLM,)),
        balances=overrides.pop("balances", {"USD": Decimal("1000"), "XLM": Decimal("0")}),
        feed_interval_s=0.05,
        **overrides,
    )
    async with running_sim(config) as sim:
        sim.control.pause_feed()
        sim.control.set_mid(XLM, Decimal("0.290000"))
        yield sim


@asynccontextmanager
async def ledger(tmp_path: Path) -> AsyncIterator[LedgerRepository]:
    clock = SystemClock()
    db = await open_ledger(tmp_path / "trading.db", clock)
    try:
        yield LedgerRepository(db, clock)
    finally:
        await db.close()


@asynccontextmanager
async def running_stack(
    sim: Sim,
    tmp_path: Path,
    repo: LedgerRepository,
    strategy: Strategy,
    *,
    live: bool = True,
    tuning: StackTuning | None = None,
    settings: Settings | None = None,
) -> AsyncIterator[TradingStack]:
    settings = settings or settings_for(tmp_path)
    creds = Credentials(Secret(sim.api_key), Secret(sim.api_secret)) if live else None
    endpoints = Endpoints(sim.rest_url, sim.ws_url, sim.ws_auth_url)
    async with (
        open_stack(
            settings,
            live=live,
            endpoints=endpoints,
            credentials=creds,
            repo=repo,
            clock=SystemClock(),
            rng=random.Random(7),
            strategy=strategy,
            tuning=tuning or fast_tuning(),
        ) as stack,
        asyncio.TaskGroup() as tg,
    ):
        for name, service in stack.services():
            tg.create_task(service(), name=name)
        try:
            yield stack
        finally:
            stack.request_stop("test over")


@dataclass
class Env:
    sim: Sim
    repo: LedgerRepository
    stack: TradingStack

    @property
    def engine(self) -> Engine:
        return self.stack.engine


@asynccontextmanager
async def engine_env(
    tmp_path: Path,
    strategy: Strategy,
    *,
    live: bool = True,
    tuning: StackTuning | None = None,
    settings: Settings | None = None,
    sim: Sim | None = None,
    **sim_overrides: Any,
) -> AsyncIterator[Env]:
    """Sim (unless given) + ledger + running stack, torn down in order."""
    async with contextlib.AsyncExitStack() as stack:
        if sim is None:
            sim = await stack.enter_async_context(sim_for_engine(**sim_overrides))
        repo = await stack.enter_async_context(ledger(tmp_path))
        running = await stack.enter_async_context(
            running_stack(
                sim, tmp_path, repo, strategy, live=live, tuning=tuning, settings=settings
            )
        )
        env = Env(sim, repo, running)
        try:
            yield env
        except BaseException:
            await dump(env)
            raise


async def dump(env: Env) -> None:
    """What the engine, the ledger and the exchange believe (shown for a failed test)."""
    print("HEALTH", env.engine.health())
    for event in await env.repo.events(limit=50):
        print("EVENT", event.kind, event.payload)
    for order in env.engine.core.registry.all():
        print("ORDER", order)
    for row in env.sim.control.orders():
        print("SIM", row)
    print("BALANCES", env.engine.core.account.confirmed, env.engine.core.account.available())


def sim_orders(sim: Sim, tag_prefix: str = "kb") -> list[dict[str, object]]:
    return [o for o in sim.control.orders() if str(o.get("cl_ord_id") or "").startswith(tag_prefix)]


def mean_reversion(**overrides: Any) -> Strategy:
    params: dict[str, Any] = {
        "symbol": XLM,
        "trade_usd": Decimal("10"),
        "ema_halflife_s": 5.0,
        "warmup_s": 0.0,
        "min_samples": 6,  # = the warm-up views: no entry before the drop
        "entry_z": 1.0,
        "entry_timeout_s": 30.0,
        "cooldown_s": 0.0,
        "exit_retry_s": 0.2,
    }
    params.update(overrides)
    return MeanReversion(MeanReversionParams(**params))


async def move_mid(env: Env, price: str) -> None:
    """Set the sim's mid and wait until the engine has seen a book around it."""
    target = Decimal(price)
    env.sim.control.set_mid(XLM, target)

    def seen() -> bool:
        book = env.engine.core.books.get(XLM)
        return book is not None and book.verified and abs((book.mid or 0) - target) < target / 5000

    await eventually(seen, what=f"book around {price}")


async def warm_up(env: Env) -> None:
    for price in ("0.290000", "0.290300", "0.289700", "0.290200", "0.289800", "0.290000"):
        await move_mid(env, price)


def ours(env: Env) -> list[dict[str, object]]:
    return sim_orders(env.sim)


async def resting(env: Env, tag: str) -> Order:
    """Wait until an order with `tag` is acknowledged and resting (status open)."""

    def find() -> Order | None:
        for order in env.engine.core.registry.live():
            if order.tag == tag and order.status is OrderStatus.OPEN:
                return order
        return None

    found: Order = await eventually(find, what=f"{tag} order resting")
    return found


async def exit_in_stops_place(
    env: Env, strategy: Scripted, price: str = "0.300000"
) -> tuple[Order, Order]:
    """A position of 30 XLM whose protective stop made way for a strategy's exit at `price`
    (far above the market unless given; Kraken holds the coins for one sell at a time), no
    reconciliation running. Returns the first stop and the exit, resting."""
    sim, engine = env.sim, env.engine
    await eventually(strategy.books, what="a verified book")
    strategy.later(lambda v: [buy("30", "0.289000")])
    sim.control.set_mid(XLM, Decimal("0.290001"))
    await eventually(lambda: ours(env), what="order on the exchange")
    sim.control.set_mid(XLM, Decimal("0.288000"))  # filled
    await eventually(lambda: engine.core.portfolio.position(XLM) == Decimal("30"))
    first_stop = await resting(env, "protect")
    strategy.later(lambda v: [sell("30", price, tag="take_profit")])
    sim.control.set_mid(XLM, Decimal("0.288001"))
    exit_ = await resting(env, "take_profit")
    await eventually(lambda: not engine.reconciler.running, what="no reconciliation running")
    return first_stop, exit_
