"""The engine: one async loop of synchronous decisions over market and account events.

Owns: `Engine` — merges the market feed's and the venue's event streams (each handled
under one lock, so decisions never interleave), keeps books, balances, the portfolio and
the order registry, builds the `RiskContext` and `StrategyView`, runs strategy → gate →
order manager, ticks timers (timeouts, metrics every minute, daily-loss watch), runs
reconciliation (start-up, every reconnect / sequence gap / ambiguous send, periodically),
feeds the breaker policy and trips the circuit breaker, and persists the trading state
(ACTIVE / REDUCING / HALTED) in `state`. Every ledger write goes through a
`WatchedRepository`: one failure makes the engine unhealthy and refuses new orders until a
write succeeds again (which also asks for a reconciliation), and `run_ledger_watch` raises
`LedgerUnwritableError` once writes have failed for `ledger_failure_grace_s` (the daemon's
safe stop). There are no mode checks here: live, sim and paper
differ only in the `Venue` and `MarketFeed` the composition root injects.
Imports: domain, orders, risk, strategy, ports, resilience, engine. Must not import: net,
store, sim, app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from krakenbot.clock import Clock
from krakenbot.domain.commands import AmendIntent, CancelIntent, Intent
from krakenbot.domain.enums import (
    Channel,
    ConnectionState,
    SystemState,
    TradingState,
)
from krakenbot.domain.events import (
    AmendRejected,
    BalanceChange,
    BookStatus,
    BookTop,
    CancelRejected,
    ConnectionChanged,
    Event,
    ExecutionReport,
    Fill,
    OrderAccepted,
    OrderRejected,
    ReconcileRequested,
    SubscriptionFailed,
    SystemStatusChanged,
    TimerTick,
)
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.portfolio import Portfolio, utc_day
from krakenbot.engine import shutdown
from krakenbot.engine.health import EngineCounts, EngineHealth, ShutdownReport
from krakenbot.engine.ledger_watch import LedgerWatch, WatchedRepository
from krakenbot.engine.protect import (
    Holdings,
    Protection,
    ProtectionTuning,
    SwitchNeed,
    entry_live,
)
from krakenbot.engine.reconciler import ReconcileConfig, Reconciler
from krakenbot.engine.view import LiveView, RoundTrips
from krakenbot.errors import InvariantError
from krakenbot.orders.fsm import OrderEvent
from krakenbot.orders.manager import ManagerConfig, OrderManager
from krakenbot.orders.protection import PROTECT_TAG
from krakenbot.orders.reconcile import Conflict, Correction
from krakenbot.orders.registry import OrderRegistry, order_from_stored
from krakenbot.ports import MarketFeed, Repository, Venue
from krakenbot.resilience.breaker import BreakerState, CircuitBreaker
from krakenbot.risk.account import AccountBook, BalanceSnapshot
from krakenbot.risk.breaker import BreakerPolicy, Cause, Trip
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Denied, Rule
from krakenbot.risk.gate import RiskGate
from krakenbot.strategy.base import Strategy

logger = logging.getLogger(__name__)
_NS = 1_000_000_000
ZERO = Decimal(0)
STATE_KEY = "trading_state"
LOSS_DAY_KEY = "loss_halted_day"
LEDGER_PROBE_KEY = "ledger_probe"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    tick_interval_s: float = 1.0
    metrics_interval_s: float = 60.0
    quote_currency: str = "USD"
    require_private_ws: bool = True  # healthy() needs the venue's private stream connected
    order_history_s: float = 2 * 86400.0  # orders loaded at start-up (plus every live one)
    # Ledger writes may keep failing this long before the daemon stops safely
    # (LEDGER_FAILURE_GRACE_S); the first failure already pauses new orders.
    ledger_failure_grace_s: float = 30.0
    ledger_check_s: float = 1.0  # how often the watch service looks (and probes a write)
    manager: ManagerConfig = field(default_factory=ManagerConfig)
    reconcile: ReconcileConfig = field(default_factory=ReconcileConfig)
    protection: ProtectionTuning = field(default_factory=ProtectionTuning)


class Engine:
    def __init__(
        self,
        *,
        strategy: Strategy,
        gate: RiskGate,
        policy: BreakerPolicy,
        breaker: CircuitBreaker,
        venue: Venue,
        feed: MarketFeed,
        repo: Repository,
        clock: Clock,
        rng: random.Random,
        instruments: Mapping[str, Instrument],
        balances: Mapping[str, Decimal] | None = None,
        system_state: SystemState = SystemState.ONLINE,
        config: EngineConfig | None = None,
    ) -> None:
        self.config = cfg = config or EngineConfig()
        self.strategy = strategy
        self.gate = gate
        self.policy = policy
        self.breaker = breaker
        self.venue = venue
        self.feed = feed
        self.clock = clock
        # Every ledger write the engine, its order manager and its reconciler make reports
        # its outcome here: one failure makes the engine unhealthy at once.
        self.ledger = LedgerWatch(
            cfg.ledger_failure_grace_s,
            on_recovered=lambda: self.request_reconcile("ledger writable again"),
        )
        self.repo = repo = WatchedRepository(repo, self.ledger, clock.monotonic_ns)
        self.instruments = dict(instruments)
        self.account = AccountBook(balances)  # exchange balances + fills not yet in them
        self.system_state = system_state
        self.trading_state = TradingState.ACTIVE
        self.books: dict[str, BookTop] = {}
        self.registry = OrderRegistry()
        self.portfolio = Portfolio()
        self.trips = RoundTrips(self.portfolio)
        self.view = LiveView(self.books, self.instruments, self.portfolio, self.registry)
        self.lock = asyncio.Lock()
        self.manager = OrderManager(
            venue=venue,
            repo=repo,
            gate=gate,
            registry=self.registry,
            clock=clock,
            rng=rng,
            deliver=self.post,
            config=cfg.manager,
            on_fatal=self._fatal,
            ledger_failing=lambda: self.ledger.failing is not None,
        )
        self.reconciler = Reconciler(
            venue=venue,
            repo=repo,
            manager=self.manager,
            clock=clock,
            lock=self.lock,
            known_fill_ids=lambda: frozenset(self._fill_ids),
            account_seq=lambda: self.account.seq,
            apply_event=self._order_event,
            on_applied=self._on_correction,
            config=cfg.reconcile,
        )
        self.protection = Protection(cfg.protection)  # see engine/protect.py
        # Told when the dead man's switch should change (an entry rests / a stop is needed).
        self.on_switch_need: Callable[[], None] | None = None
        self._switch_need = SwitchNeed(entry=False, protection=False)
        self._fill_ids: set[str] = set()
        self._stop = asyncio.Event()
        self._reconcile_wanted = asyncio.Event()
        self._reconcile_reasons: list[str] = []
        self._connections: dict[Channel, ConnectionState] = {}
        self._ever_connected: set[Channel] = set()
        self._last_market_ns = 0
        self._last_tick_mono = clock.monotonic_ns()
        self._next_metrics_ns = 0
        self._counts = EngineCounts()
        self._last_error = ""
        self._refused: set[str] = set()  # symbols whose book subscription failed
        self.ledger_refusals = 0  # new orders not even tried while the ledger was failing
        self._fatal_reason = ""
        self._inflight: set[asyncio.Future[None]] = set()

    # ================================================================== start-up
    async def load(self) -> None:
        """Rebuild the in-memory picture from the ledger (orders, fills, trading state)."""
        now = self.clock.now_ns()
        for fill in await self.repo.load_fills(0):
            self._fill_ids.add(fill.trade_id)
            self.trips.apply(fill)
        since = now - int(self.config.order_history_s * _NS)
        rows = await self.repo.orders_since(since)
        for row in rows:
            fills = await self.repo.fills_for_order(row.cl_ord_id)
            self.registry.add(order_from_stored(row, (f.trade_id for f in fills)))
        window_start = now - int(self.gate.limits.order_window_s * _NS)
        self.gate.restore_approvals(  # the order-rate limit survives a restart
            r.created_ns for r in rows if not r.reduces_position and r.created_ns > window_start
        )
        stored = await self.repo.get_state(STATE_KEY)
        if stored is not None:
            self.trading_state = TradingState(stored)
        halted_day = await self.repo.get_state(LOSS_DAY_KEY)
        if halted_day:
            self.gate.loss_halted_day = date.fromisoformat(halted_day)
        self._next_metrics_ns = now + int(self.config.metrics_interval_s * _NS)

    # ================================================================== services
    async def run_market(self) -> None:
        """Consume the market feed until stop is requested."""
        await self._until_stopped(self._pump(self.feed.events()))

    async def run_account(self) -> None:
        """Consume the venue's account/state stream until stop is requested."""
        await self._until_stopped(self._pump(self.venue.events()))

    async def run_timer(self) -> None:
        """Post a TimerTick every `tick_interval_s` until stop is requested."""

        async def ticks() -> None:
            while True:
                await self.clock.sleep(self.config.tick_interval_s)
                self._last_tick_mono = self.clock.monotonic_ns()
                await self.post(TimerTick(self.clock.now_ns()))

        await self._until_stopped(ticks())

    async def run_reconciler(self) -> None:
        """Reconcile when asked (reconnect, gap, ambiguity) and every `interval_s`."""

        async def loop() -> None:
            cfg = self.config.reconcile
            while True:
                try:
                    async with asyncio.timeout(cfg.interval_s):
                        await self._reconcile_wanted.wait()
                except TimeoutError:
                    self._reconcile_reasons.append("periodic")
                await self.clock.sleep(cfg.min_gap_s)  # merge a burst of requests
                self._reconcile_wanted.clear()
                reasons, self._reconcile_reasons = self._reconcile_reasons, []
                reason = ", ".join(dict.fromkeys(reasons)) or "requested"
                await self._shielded(self._reconcile_quietly(reason))  # never cut a write

        await self._until_stopped(loop())

    async def run_ledger_watch(self) -> None:
        """Raise `LedgerUnwritableError` once ledger writes have kept failing for the grace
        period (the daemon then makes its safe stop); returns when stop is requested.

        While failing, it probes with one small write per check: new orders are refused then,
        so without a probe nothing might write and a recovered ledger would go unnoticed."""

        async def loop() -> None:
            while True:
                await self.clock.sleep(self.config.ledger_check_s)
                if self.ledger.failing is None:
                    continue
                now = self.clock.monotonic_ns()
                overdue = self.ledger.overdue(now)
                if overdue is not None:
                    raise self.ledger.overdue_error(overdue, now)
                await self._shielded(self._probe_ledger())  # never cut a write

        await self._until_stopped(loop())

    async def _probe_ledger(self) -> None:
        with contextlib.suppress(Exception):  # the outcome is what the watch records
            await self.repo.set_state(LEDGER_PROBE_KEY, str(self.clock.now_ns()))

    async def _until_stopped(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (task, stop):
                t.cancel()
            await asyncio.gather(stop, return_exceptions=True)
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if self._inflight:  # a handler cut loose by the cancel finishes first
                await asyncio.wait(set(self._inflight))

    async def _pump(self, source: AsyncIterator[Event]) -> None:
        async for event in source:
            await self.post(event)

    async def post(self, event: Event) -> None:
        """Handle one event under the engine lock (the only way events enter).

        Shielded: stopping a service cancels its wait for the next event, never the
        handling of one (a ledger transaction cut in half would poison the connection)."""
        await self._shielded(self._post(event))

    async def _shielded(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        await asyncio.shield(task)

    async def quiesce(self, timeout_s: float = 5.0) -> None:
        """Wait (bounded) for sends and event handling still in flight, e.g. before the
        ledger is closed."""
        await self.manager.drain(timeout_s)
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout_s)

    async def _post(self, event: Event) -> None:
        async with self.lock:
            try:
                await self._handle(event)
            except InvariantError as exc:
                await self._on_invariant(exc)
            except Exception as exc:  # one bad event must not kill the loop
                logger.exception("event handling failed", extra={"event": type(event).__name__})
                self._bump(errors=1)
                self._last_error = f"{type(event).__name__}: {exc!r}"
            need = self.switch_need()
            if need != self._switch_need and self.on_switch_need is not None:
                self.on_switch_need()
            self._switch_need = need

    # ================================================================== control
    def request_stop(self, reason: str) -> None:
        """No new orders from now on; the services return."""
        if not self._stop.is_set():
            logger.info("engine stop requested", extra={"reason": reason})
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_reconcile(self, reason: str) -> None:
        self._reconcile_reasons.append(reason)
        self._reconcile_wanted.set()

    @property
    def reconcile_reasons(self) -> tuple[str, ...]:
        """Why the next reconciliation was asked for (empty when none is pending)."""
        return tuple(self._reconcile_reasons) if self._reconcile_wanted.is_set() else ()

    async def set_trading_state(self, state: TradingState, reason: str) -> None:
        if state is self.trading_state:
            return
        old, self.trading_state = self.trading_state, state
        await self.repo.set_state(STATE_KEY, state.value)
        await self.repo.record_event(
            "trading_state", {"from": old.value, "to": state.value, "reason": reason}
        )
        logger.warning("trading state changed", extra={"to": state.value, "reason": reason})

    async def _reconcile_quietly(self, reason: str) -> None:
        await self.reconcile(reason)

    async def emergency_stop(self, reason: str) -> None:
        """HALTED (persisted), then cancel every order of ours on the account (through the
        gate; never anyone else's); the outcome arrives as events, confirmed by reconciliation."""
        async with self.lock:
            await self.set_trading_state(TradingState.HALTED, f"emergency: {reason}")
            self.protection.enabled = False  # every order of ours goes, the stops too
            await self.manager.cancel_everything(reason, self.risk_context())
        self.request_reconcile(f"emergency stop: {reason}")

    async def reconcile(self, reason: str) -> int:
        """Run one reconciliation now; returns the number of corrections."""
        try:
            result = await self.reconciler.run_once(reason)
        except Exception as exc:
            logger.warning("reconciliation failed", extra={"reason": reason, "error": repr(exc)})
            self._last_error = f"reconcile: {exc!r}"
            self._reconcile_reasons.append(f"retry after failure: {reason}")
            return -1
        await self._check_balances(result.balances)
        self._bump(reconciles=1, corrections=len(result.corrections))
        return len(result.corrections)

    async def shutdown(self, timeout_s: float) -> ShutdownReport:
        """Cancel our live orders but the protective stops, confirm, settle the ledger
        (bounded by `timeout_s`; never raises): see engine/shutdown.py."""
        return await shutdown.shutdown(self, timeout_s)

    def note_error(self, error: str) -> None:
        self._last_error = error

    # ================================================================== handling
    async def _handle(self, event: Event) -> None:
        if self._fatal_reason:
            reason, self._fatal_reason = self._fatal_reason, ""
            await self.set_trading_state(TradingState.HALTED, reason)
        trip = self.policy.on_event(event)
        if trip is not None:
            await self._trip(trip)
        if isinstance(event, BookTop):
            await self._on_book(event)
        elif isinstance(event, ExecutionReport | OrderAccepted | OrderRejected):
            await self._order_event(event)
            await self._decide(event)
            await self._protect()
        elif isinstance(event, TimerTick):
            await self._on_tick(event)
            await self._protect()
        elif isinstance(event, BalanceChange):
            self.account.on_balance(event)
        elif isinstance(event, BookStatus):
            book = self.books.get(event.symbol)
            if book is not None and book.verified != event.verified:
                self.books[event.symbol] = replace(book, verified=event.verified)
        elif isinstance(event, ConnectionChanged):
            await self._on_connection(event)
        elif isinstance(event, ReconcileRequested):
            self.request_reconcile(event.reason)
        elif isinstance(event, SystemStatusChanged):
            self.system_state = event.state
        elif isinstance(event, CancelRejected | AmendRejected):
            await self.repo.record_event(
                "cancel_rejected" if isinstance(event, CancelRejected) else "amend_rejected",
                {
                    "cl_ord_id": event.cl_ord_id or "",
                    "order_id": event.order_id or "",
                    "error": event.error,
                },
            )
            self.request_reconcile(f"cancel or amend rejected: {event.error}")
        elif isinstance(event, SubscriptionFailed):
            if event.symbol:
                self._refused.add(event.symbol)
        else:
            await self._decide(event)

    async def _on_book(self, book: BookTop) -> None:
        self.books[book.symbol] = book
        self._last_market_ns = book.recv_ns
        self._refused.discard(book.symbol)
        await self._decide(book)

    async def _on_connection(self, event: ConnectionChanged) -> None:
        self._connections[event.channel] = event.state
        if event.state is not ConnectionState.CONNECTED:
            return
        if event.channel in self._ever_connected:
            self._bump(reconnects=1)
            self.request_reconcile(f"{event.channel} websocket reconnected")
        self._ever_connected.add(event.channel)

    async def _on_tick(self, tick: TimerTick) -> None:
        now = tick.now_ns
        await self._watch_daily_loss(now)
        ctx = self.risk_context(now)
        stale = await self.manager.housekeeping(ctx)
        if stale:
            self.request_reconcile(f"unacknowledged orders {', '.join(stale)}")
        await self._decide(tick)
        if now >= self._next_metrics_ns:
            self._next_metrics_ns = now + int(self.config.metrics_interval_s * _NS)
            await self._write_metrics(now)
            # Finished orders older than the reconciliation window leave the hot copy
            # (never sooner: reconciliation must still recognise them as ours).
            keep_s = self.config.reconcile.lookback_s + 86400.0
            self.registry.forget_finished(now - int(keep_s * _NS))

    async def _decide(self, event: Event) -> None:
        if self._stop.is_set():
            return
        intents = self.strategy.on_event(event, self.view)
        if intents:
            await self.execute(intents)

    async def submit(self, intents: Sequence[Intent]) -> None:
        """Operator/test entry point: like strategy output, under the engine lock."""
        async with self.lock:
            await self.execute(intents)

    async def execute(self, intents: Sequence[Intent], *, held: bool = True) -> None:
        """Submit strategy (or operator) intents in order, each through the gate; an exit
        on a pair with a protective stop waits for the stop's cancel (`held`)."""
        if held:
            intents = self.protection.split(intents, self.registry.live())
        for intent in intents:
            ctx = self.risk_context()
            if isinstance(intent, CancelIntent):
                await self.manager.cancel(intent, ctx)
                continue
            if isinstance(intent, AmendIntent):
                self.protection.outcome(intent, await self.manager.amend(intent, ctx), ctx.now_ns)
                continue
            protective = intent.tag == PROTECT_TAG and self.protection.enabled
            if (self._stop.is_set() and not protective) or intent.symbol in self._refused:
                continue
            if self.ledger.failing is not None:
                # It could not be persisted before sending anyway; refusing here also
                # spares the engine lock a busy-timeout wait per attempt.
                self.ledger_refusals += 1
                continue
            halted_before = self.gate.loss_halted_day
            decision = await self.manager.submit(intent, ctx)
            self.protection.outcome(intent, decision, ctx.now_ns)
            if isinstance(decision, Denied):
                if decision.rule is Rule.DAILY_LOSS and halted_before != self.gate.loss_halted_day:
                    await self._loss_halt_persist(decision.reason)
            else:
                self._bump(orders=1)

    async def _order_event(self, event: OrderEvent) -> None:
        """Apply an order event (venue, reconciliation or a send outcome) everywhere."""
        applied = await self.manager.apply(event)
        if applied is None:
            if isinstance(event, ExecutionReport | Fill) and not _is_snapshot(event):
                if event.order_id in self.reconciler.foreign_order_ids:
                    return  # a known foreign order (placed by hand?): reported, not ours
                await self.repo.record_event(
                    "unknown_order_event",
                    {
                        "cl_ord_id": event.cl_ord_id or "",
                        "order_id": event.order_id,
                        "type": type(event).__name__,
                    },
                )
                self.request_reconcile("event for an unknown order")
            return
        self.protection.observe(applied.before, applied.after, self.clock.now_ns())
        fill = applied.new_fill
        if fill is not None:
            self._fill_ids.add(fill.trade_id)
            instrument = self.instruments.get(fill.symbol)
            if instrument is not None:
                self.account.on_fill(fill, instrument)
            self._bump(fills=1)
            closed = self.trips.apply(fill)
            if closed is not None:
                for entry in closed.entry_ids:
                    await self.repo.close_learning_entry(
                        entry, closed.outcome, closed.pnl, fill.exchange_ns or self.clock.now_ns()
                    )
        after = applied.after
        ended = after.is_terminal and not applied.before.is_terminal
        if ended and after.filled_qty == 0 and after.tag == "entry":
            await self.repo.close_learning_entry(
                after.cl_ord_id, f"unfilled_{after.status}", ZERO, self.clock.now_ns()
            )

    async def _on_correction(self, correction: Correction) -> None:
        if isinstance(correction, Conflict):
            await self.set_trading_state(
                TradingState.HALTED, f"reconcile conflict: {correction.detail}"
            )

    async def _check_balances(self, snapshot: BalanceSnapshot) -> None:
        """Hold the exchange's balances against ours where they are comparable (see
        `risk.account`): a difference there is an inconsistency for the breaker."""
        async with self.lock:
            mismatches = self.account.settle(snapshot)
            if mismatches:
                detail = "; ".join(m.describe() for m in mismatches)
                await self.repo.record_event("balance_mismatch", {"detail": detail})
                trip = self.policy.record(Cause.BALANCE_MISMATCH, self.clock.now_ns(), detail)
                if trip is not None:
                    await self._trip(trip)

    async def _protect(self) -> None:
        """Keep one protective stop per position (engine/protect.py decides)."""
        notes, self.protection.notes = self.protection.notes, []
        for note in notes:  # a stop that could not be placed: the operator should know
            await self.repo.record_event("unprotected", note)
        if self.protection.enabled:
            intents = self.protection.decide(self.clock.now_ns(), self._holdings())
            await self.execute(intents, held=False)

    def _holdings(self) -> Holdings:
        p = self.portfolio
        positions = p.positions()
        entries = {s: e for s in positions if (e := p.avg_entry(s)) is not None}
        live = self.registry.live()
        return Holdings(positions, entries, self.instruments, self.books, live)

    def switch_need(self) -> SwitchNeed:
        """What the dead man's switch must cover now (app/deadman.py decides)."""
        live = self.registry.live()
        return SwitchNeed(entry_live(live), self.protection.needed(self._holdings()))

    # ================================================================== risk plumbing
    def risk_context(self, now_ns: int | None = None) -> RiskContext:
        now = self.clock.now_ns() if now_ns is None else now_ns
        return RiskContext(
            now_ns=now,
            trading_state=self.trading_state,
            system_state=self.system_state,
            breaker_open=not self.breaker.admits(),
            instruments=self.instruments,
            books=self.books,
            positions=self.portfolio.positions(),
            working=self.registry.working(),
            daily_pnl=self._daily_pnl(now),
            balances=self.risk_balances(),
            unprotected=dict(self.protection.unprotected),
        )

    @property
    def balances(self) -> Mapping[str, Decimal]:
        """The balances as the exchange last reported them."""
        return self.account.confirmed

    def risk_balances(self) -> dict[str, Decimal]:
        """Exchange balances plus the fills no balance report covers yet."""
        return self.account.available()

    def _marks(self) -> dict[str, Decimal]:
        return {s: b.mid for s, b in self.books.items() if b.verified and b.mid is not None}

    def _daily_pnl(self, now_ns: int) -> Decimal | None:
        return self.portfolio.daily_pnl(utc_day(now_ns), self._marks())

    async def _watch_daily_loss(self, now_ns: int) -> None:
        pnl = self._daily_pnl(now_ns)
        today = utc_day(now_ns)
        if self.gate.loss_halted_day not in (None, today):
            self.gate.loss_halted_day = None
            await self.repo.set_state(LOSS_DAY_KEY, "")
        limit = self.gate.limits.max_daily_loss_usd
        if pnl is not None and -pnl >= limit and self.gate.loss_halted_day != today:
            self.gate.loss_halted_day = today
            await self._loss_halt_persist(f"daily PnL {pnl}")

    async def _loss_halt_persist(self, reason: str) -> None:
        day = self.gate.loss_halted_day
        await self.repo.set_state(LOSS_DAY_KEY, day.isoformat() if day else "")
        await self.repo.record_event(
            "daily_loss_halt", {"day": day.isoformat() if day else "", "reason": reason}
        )

    async def _trip(self, trip: Trip) -> None:
        self.breaker.trip(f"{trip.cause}: {trip.detail}")
        await self.repo.record_event(
            "breaker_trip",
            {"cause": str(trip.cause), "count": str(trip.count), "detail": trip.detail},
        )

    async def _on_invariant(self, exc: InvariantError) -> None:
        logger.error("invariant broken: trading halted", extra={"error": str(exc)})
        self._bump(errors=1)
        self._last_error = f"invariant: {exc}"
        await self.set_trading_state(TradingState.HALTED, f"invariant: {exc}")
        self.request_reconcile("invariant error")

    def _fatal(self, exc: BaseException) -> None:
        self._last_error = f"fatal: {exc}"
        self.request_reconcile(f"fatal exchange error: {exc}")
        self._fatal_reason = f"fatal exchange error: {exc}"  # applied by the next event

    # ================================================================== metrics, health
    async def _write_metrics(self, now: int) -> None:
        pnl = self._daily_pnl(now)
        day_pnl = pnl if pnl is not None else self.portfolio.realized_on(utc_day(now))
        row = {
            "balance_usd": str(self.balances.get(self.config.quote_currency, ZERO)),
            "total_trades": str(self.trips.total),
            "winning_trades": str(self.trips.winning),
            "total_profit_loss": str(self.portfolio.realized_total),
            "daily_profit_loss": str(day_pnl),
        }
        await self.repo.record_metrics(row, now)

    def _bump(self, **deltas: int) -> None:
        c = self._counts
        self._counts = replace(c, **{k: getattr(c, k) + v for k, v in deltas.items()})

    def health(self) -> EngineHealth:
        now = self.clock.now_ns()
        failing = self.ledger.failing
        symbols = self.strategy.symbols
        verified = all(s in self.books and self.books[s].verified for s in symbols)
        return EngineHealth(
            trading_state=self.trading_state,
            breaker_state=self.breaker.state,
            last_market_data_ns=self._last_market_ns,
            book_verified=verified,
            ws_public=self._connections.get(Channel.PUBLIC),
            ws_private=self._connections.get(Channel.PRIVATE),
            open_orders=len(self.registry.live()),
            pnl=self.portfolio.report(utc_day(now), self._marks()),
            last_error=self._last_error,
            counts=replace(self._counts, denials=self.manager.denials),
            stop_requested=self._stop.is_set(),
            ledger_error=failing.describe() if failing is not None else "",
        )

    def healthy(self) -> bool:
        quiet_ns = self.clock.monotonic_ns() - self._last_tick_mono
        responsive = quiet_ns <= int(5 * self.config.tick_interval_s * _NS) + 5 * _NS
        private_ok = (
            not self.config.require_private_ws
            or self._connections.get(Channel.PRIVATE) is ConnectionState.CONNECTED
        )
        return (
            responsive
            and private_ok
            and self.ledger.failing is None
            and self.breaker.state is BreakerState.CLOSED
        )


def _is_snapshot(event: ExecutionReport | Fill) -> bool:
    return isinstance(event, ExecutionReport) and event.is_snapshot


__all__ = ["Engine", "EngineConfig"]
