"""The engine runner's long-running services: the two event pumps, the timer, the
reconciliation loop and the ledger watch. Each returns when stop is requested.

Owns: `services(runner)` (name, coroutine factory) for the daemon's TaskGroup, and the
loops themselves. Balance checks, reconciliation triggers and timeouts are events or
requests here, never sleeps inside a decision: the timer posts `TimerTick`s (the core runs
its timeouts on them), the reconciliation loop runs when asked (reconnect, gap, ambiguity,
ledger writable again) or every `interval_s`. The pumps tell the executor's observer
(engine/observe.py) when they took each event, after posting it (the WebSocket message
lag). Imports: domain, engine. Must not import:
net, store, app.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from krakenbot.domain.events import Event, TimerTick

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner

LEDGER_PROBE_KEY = "ledger_probe"
Service = Callable[[], Awaitable[None]]


def services(r: EngineRunner) -> list[tuple[str, Service]]:
    return [
        ("engine_market", lambda: run_market(r)),
        ("engine_account", lambda: run_account(r)),
        ("engine_timer", lambda: run_timer(r)),
        ("reconcile", lambda: run_reconciler(r)),
        ("ledger", lambda: run_ledger_watch(r)),  # raises once writes fail for the grace period
    ]


async def run_market(r: EngineRunner) -> None:
    """Consume the market feed until stop is requested. Its events are handled in the
    pump's own task (`post(in_place=True)`: `until_stopped` never cancels it mid-event)."""
    await until_stopped(r, _pump(r, r.feed.events(), "public", in_place=True))


async def run_account(r: EngineRunner) -> None:
    """Consume the venue's account/state stream until stop is requested (the shutdown then
    runs its own pump, `pump_account`, once this one has ended)."""
    r.account_pump = asyncio.current_task()
    await until_stopped(r, pump_account(r))


def pump_account(r: EngineRunner) -> Awaitable[None]:
    """Every event of the venue's account/state stream into the engine, until cancelled."""
    return _pump(r, r.venue.events(), "private")


async def run_timer(r: EngineRunner) -> None:
    """Post a TimerTick every `tick_interval_s` until stop is requested."""

    async def ticks() -> None:
        while True:
            await r.clock.sleep(r.config.tick_interval_s)
            r.last_tick_mono = r.clock.monotonic_ns()
            await r.post(TimerTick(r.clock.now_ns()))

    await until_stopped(r, ticks())


async def run_reconciler(r: EngineRunner) -> None:
    """Reconcile when asked (reconnect, gap, ambiguity) and every `interval_s`."""

    async def loop() -> None:
        cfg = r.config.reconcile
        while True:
            try:
                async with asyncio.timeout(cfg.interval_s):
                    await r.reconcile_wanted.wait()
            except TimeoutError:
                r.reconcile_asked.append("periodic")
            await r.clock.sleep(cfg.min_gap_s)  # merge a burst of requests
            r.reconcile_wanted.clear()
            reasons, r.reconcile_asked = r.reconcile_asked, []
            reason = ", ".join(dict.fromkeys(reasons)) or "requested"
            await r.shielded(r.reconcile(reason))  # never cut a write

    await until_stopped(r, loop())


async def run_ledger_watch(r: EngineRunner) -> None:
    """Raise `LedgerUnwritableError` once ledger writes have kept failing for the grace
    period (the daemon then makes its safe stop); returns when stop is requested.

    While failing, it probes with one small write per check: new orders are refused then,
    so without a probe nothing might write and a recovered ledger would go unnoticed. It
    wakes when the grace runs out (not at the next check after it) and probes once more
    first: a lock released within the grace stops nothing."""

    async def loop() -> None:
        while True:
            now = r.clock.monotonic_ns()
            await r.clock.sleep(r.ledger.next_look_s(now, r.config.ledger_check_s))
            if r.ledger.failing is None:
                continue
            await r.shielded(_probe_ledger(r))  # never cut a write
            now = r.clock.monotonic_ns()
            overdue = r.ledger.overdue(now)
            if overdue is not None:
                raise r.ledger.overdue_error(overdue, now)

    await until_stopped(r, loop())


async def _probe_ledger(r: EngineRunner) -> None:
    with contextlib.suppress(Exception):  # the outcome is what the watch records
        await r.repo.set_state(LEDGER_PROBE_KEY, str(r.clock.now_ns()))


async def until_stopped(r: EngineRunner, work: Awaitable[None]) -> None:
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(r.stop_event.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        r.stop_service(task)  # or, while it handles an event in place, right after it
        await asyncio.gather(stop, return_exceptions=True)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)  # (a cancel of ours must not reach its handling)
        if r.inflight:  # a handler cut loose by the cancel finishes first
            await asyncio.wait(set(r.inflight))


async def _pump(
    r: EngineRunner, source: AsyncIterator[Event], channel: str, *, in_place: bool = False
) -> None:
    now = r.clock.now_ns
    async for event in source:
        observer = r.executor.observer
        if observer is None:
            await r.post(event, in_place=in_place)
            continue
        taken = now()
        await r.post(event, in_place=in_place)  # the decision first: the observer reads after
        observer.event_taken(channel, event, taken)
