"""The engine runner: the thin async shell around the synchronous `EngineCore`.

Owns: `EngineRunner` — pulls events from the market feed and the venue (and posts timer
ticks), hands each to `EngineCore.handle` under one lock (decisions never interleave), and
carries out the returned effects in order (engine/executor.py: ledger writes awaited, sends
handed to the venue); start-up load; reconciliation and emergency stop on request. With its
helpers — the periodic services (engine/services.py: pumps, timer, reconciliation loop,
ledger watch), engine/executor.py, engine/reconciler.py (fetching), engine/shutdown.py — it
is the only engine code that awaits. Health is read in engine/health.py.

Every ledger write goes through a `WatchedRepository`: one failure makes the engine
unhealthy and the core refuses new orders until a write succeeds again (which also asks for
a reconciliation); `run_ledger_watch` raises `LedgerUnwritableError` once writes have failed
for `ledger_failure_grace_s` (the daemon's safe stop). What the core cannot see for itself
(ledger failing, breaker admitting entries) is told to it as `Conditions` before an event
whenever it changed. The `OrderJournal` (optional) is where a shutdown records a protective
stop the failing ledger cannot take (engine/shutdown_cover.py). There are no mode checks
here: live, sim and paper differ only in the `Venue` and `MarketFeed` the composition root
injects.
Imports: domain, orders, risk, ports, resilience, engine. Must not import: net, store, app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date

from krakenbot.clock import Clock
from krakenbot.domain.commands import Intent
from krakenbot.domain.effects import Effect, RecordEvent
from krakenbot.domain.enums import TradingState
from krakenbot.domain.events import Event
from krakenbot.engine import health, shutdown
from krakenbot.engine.core import LOSS_DAY_KEY, STATE_KEY, EngineCore, event_time
from krakenbot.engine.executor import Executor
from krakenbot.engine.health import EngineHealth, ShutdownReport
from krakenbot.engine.inputs import (
    Conditions,
    EngineInput,
    FlattenRequested,
    LedgerLoaded,
    StopRequested,
    Submit,
    TradingStateRequested,
)
from krakenbot.engine.ledger_watch import LedgerWatch, WatchedRepository
from krakenbot.engine.protect import SwitchNeed
from krakenbot.engine.reconciler import Reconciler
from krakenbot.engine.shutdown_cover import Disarm
from krakenbot.orders.registry import order_from_stored
from krakenbot.ports import MarketFeed, OrderJournal, Repository, Venue
from krakenbot.resilience.breaker import CircuitBreaker

logger = logging.getLogger(__name__)
_NS = 1_000_000_000


class EngineRunner:
    def __init__(
        self,
        core: EngineCore,
        *,
        venue: Venue,
        feed: MarketFeed,
        repo: Repository,
        clock: Clock,
        breaker: CircuitBreaker,
        journal: OrderJournal | None = None,
    ) -> None:
        self.core = core
        self.config = cfg = core.config
        self.venue, self.feed, self.clock, self.breaker = venue, feed, clock, breaker
        self.journal = journal  # where a shutdown records a stop the ledger cannot take
        self.ledger = LedgerWatch(
            cfg.ledger_failure_grace_s,
            on_recovered=lambda: self.request_reconcile("ledger writable again"),
        )
        self.repo = WatchedRepository(repo, self.ledger, clock.monotonic_ns)
        self.executor = Executor(self)
        self.reconciler = Reconciler(self)
        self.lock = asyncio.Lock()
        self.stop_event = asyncio.Event()
        self.reconcile_wanted = asyncio.Event()
        self.reconcile_asked: list[str] = []
        self.last_tick_mono = clock.monotonic_ns()
        self.last_error = ""
        self.errors = 0  # events whose handling failed (logged, engine kept going)
        self.inflight: set[asyncio.Future[object]] = set()
        # Tasks handling an event in place (`post(in_place=True)`), and those of them asked
        # to stop meanwhile (`stop_service`).
        self._in_place: set[object] = set()
        self._stop_after: set[object] = set()
        # The service consuming the venue's stream (engine/services.py `run_account`): the
        # shutdown takes over from it once it has ended.
        self.account_pump: asyncio.Future[object] | None = None
        # What the dead man's switch must cover (told by the core) and who wants to know.
        self.switch_need = SwitchNeed(entry=False, protection=False)
        self._switch_watchers: list[Callable[[], None]] = []

    # ================================================================== events in
    async def post(self, event: Event | EngineInput, *, in_place: bool = False) -> list[Effect]:
        """Handle one event under the engine lock and carry out its effects (the only way
        events enter); returns them once carried out. The effects run shielded in their own
        task, which releases the lock: stopping a service cancels its wait for the next
        event, never the handling of one (a ledger transaction cut in half would poison the
        connection). `in_place`: in the caller's task instead, for a service whose task is
        never cancelled while it handles an event (`stop_service`; the market pump: no task
        to start before an order's row is written, issue 14)."""
        await self.lock.acquire()
        try:
            effects = self._conditions()
            now = 0 if event_time(event) else self.clock.now_ns()
            effects += self.core.handle(event, now)
        except BaseException:
            self.lock.release()
            raise
        if not effects:
            self.lock.release()
            return effects
        if in_place:
            await self._carry_out_in_place(effects)
        else:
            await self.shielded(self._carry_out(effects))
        return effects

    async def _carry_out_in_place(self, effects: list[Effect]) -> None:
        task = asyncio.current_task()
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.inflight.add(done)  # waited for as a shielded handling is (`quiesce`, shutdown)
        self._in_place.add(task)
        try:
            await self._carry_out(effects)
        finally:
            self._in_place.discard(task)
            self.inflight.discard(done)
            done.set_result(None)
        if task in self._stop_after:  # asked to stop while it handled: it ends here
            self._stop_after.discard(task)
            raise asyncio.CancelledError

    def stop_service(self, task: asyncio.Future[None]) -> None:
        """Cancel a service's task (engine/services.py `until_stopped`) — unless it is
        handling an event in place (`post(in_place=True)`): then it ends right after."""
        if task in self._in_place:
            self._stop_after.add(task)
        else:
            task.cancel()

    async def _carry_out(self, effects: list[Effect]) -> None:
        try:
            await self.executor.run(effects)
        except Exception as exc:  # one bad effect must not kill the loop
            logger.exception("carrying out effects failed")
            self.note_error(f"effects: {exc!r}")
        finally:
            self.lock.release()

    def _conditions(self) -> list[Effect]:
        """Tell the core what changed outside it (ledger writable? breaker admitting?)."""
        core = self.core
        failing = self.ledger.failing is not None
        admits = self.breaker.admits()
        if failing == core.ledger_failing and admits == core.breaker_admits:
            return []
        return core.handle(Conditions(failing, admits, self.clock.now_ns()))

    async def submit(self, intents: Sequence[Intent]) -> None:
        """Operator/test entry point: like strategy output."""
        await self.post(Submit(tuple(intents), self.clock.now_ns()))

    async def set_trading_state(self, state: TradingState, reason: str) -> None:
        """Operator command: ACTIVE, REDUCING or HALTED (persisted)."""
        await self.post(TradingStateRequested(state, reason, self.clock.now_ns()))

    async def flatten(self, reason: str) -> tuple[str, ...]:
        """Operator command: REDUCING, then close every position (engine/flatten.py); the
        lines say what was planned (each exit then goes through the risk gate)."""
        effects = await self.post(FlattenRequested(reason, self.clock.now_ns()))
        for effect in effects:
            if isinstance(effect, RecordEvent) and effect.kind == "flatten":
                return tuple(effect.payload["plan"].split("; "))
        return ()

    def switch_need_changed(self, need: SwitchNeed) -> None:
        self.switch_need = need
        for watcher in self._switch_watchers:
            watcher()

    def watch_switch_need(self, callback: Callable[[], None]) -> None:
        """`callback` runs whenever what the dead man's switch must cover changes."""
        self._switch_watchers.append(callback)

    def note_error(self, text: str) -> None:
        self.errors += 1
        self.last_error = text

    # ================================================================== start-up
    async def load(self) -> None:
        """Rebuild the core's picture from the ledger (orders, fills, trading state)."""
        now, repo = self.clock.now_ns(), self.repo
        fills = tuple(await repo.load_fills(0))
        rows = await repo.orders_since(now - int(self.config.order_history_s * _NS))
        orders = []
        for row in rows:
            own = await repo.fills_for_order(row.cl_ord_id)
            orders.append(order_from_stored(row, (f.trade_id for f in own)))
        stored = await repo.get_state(STATE_KEY)
        day = await repo.get_state(LOSS_DAY_KEY)
        state = TradingState(stored) if stored is not None else None
        halted = date.fromisoformat(day) if day else None
        loaded = LedgerLoaded(fills, tuple(orders), state, halted, now)
        await self.post(loaded)

    async def shielded(self, work: Awaitable[object]) -> None:
        """`work` in its own task, counted in flight: a cancelled wait never cuts it short."""
        task: asyncio.Future[object] = asyncio.ensure_future(work)
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)
        await asyncio.shield(task)

    async def quiesce(self, timeout_s: float = 5.0) -> None:
        """Wait (bounded) for sends and event handling still in flight, e.g. before the
        ledger is closed."""
        await self.executor.drain(timeout_s)
        if self.inflight:
            await asyncio.wait(set(self.inflight), timeout=timeout_s)

    # ================================================================== control
    def request_stop(self, reason: str) -> None:
        """No new orders from now on; the services return."""
        if not self.stop_event.is_set():
            logger.info("engine stop requested", extra={"reason": reason})
            self.core.handle(StopRequested(reason, self.clock.now_ns()))
        self.stop_event.set()

    @property
    def stop_requested(self) -> bool:
        return self.stop_event.is_set()

    def request_reconcile(self, reason: str) -> None:
        self.reconcile_asked.append(reason)
        self.reconcile_wanted.set()

    @property
    def reconcile_reasons(self) -> tuple[str, ...]:
        """Why the next reconciliation was asked for (empty when none is pending)."""
        return tuple(self.reconcile_asked) if self.reconcile_wanted.is_set() else ()

    async def reconcile(self, reason: str) -> int:
        """Run one reconciliation now; returns the number of corrections (-1: it failed)."""
        try:
            return await self.reconciler.run_once(reason)
        except Exception as exc:
            logger.warning("reconciliation failed", extra={"reason": reason, "error": repr(exc)})
            self.last_error = f"reconcile: {exc!r}"
            self.reconcile_asked.append(f"retry after failure: {reason}")
            return -1

    async def emergency_stop(self, reason: str) -> None:
        """HALTED (persisted), then cancel every order of ours on the account (through the
        gate; never anyone else's): see engine/shutdown.py."""
        await shutdown.emergency(self, reason)

    async def shutdown(self, timeout_s: float, disarm: Disarm | None = None) -> ShutdownReport:
        """Cancel our live orders but the protective stops, put each position's stop back,
        confirm, settle the ledger: see engine/shutdown.py (`disarm`: the dead man's
        switch's, awaited before a stop is placed)."""
        return await shutdown.shutdown(self, timeout_s, disarm)

    async def drain(self, timeout_s: float) -> None:
        """Wait (bounded) for the sends in flight; the rest is cut."""
        await self.executor.drain(timeout_s)

    # ================================================================== health
    def health(self) -> EngineHealth:
        return health.report(self)

    def healthy(self) -> bool:
        quiet_ns = self.clock.monotonic_ns() - self.last_tick_mono
        return health.is_healthy(self, quiet_ns)


__all__ = ["EngineRunner"]
