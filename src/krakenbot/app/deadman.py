"""The dead man's switch: Kraken's CancelAllOrdersAfter, armed only while an entry needs it.

Owns: `dms_action` (the pure policy) and `DeadMansSwitch` (the refresh loop). Kraken's advice
(docs: api-reference/trading/cancel-all-orders-after-x; websocket-v2/cancel_after): send a
60 s timeout every 15-30 s; a timeout of 0 disables it; disable it ahead of trading-engine
maintenance, because an armed timer cancels every order when the engine comes back.
The switch cancels EVERY order on the account — our protective stops too (and orders that
are not ours: the README says so). So, with the engine's `SwitchNeed`:
* a position needs its protective stop (orders/protection.py) → the switch is OFF (timeout
  0), healthy or not: a dead or frozen daemon must leave the stop resting. Entries still
  cannot outlive the daemon: each is sent GTD, expiring DEAD_MAN_SWITCH_TIMEOUT_S after
  Kraken accepts it (orders/manager.py);
* no position, and an entry of ours rests or is in flight → ARMED, refreshed only while the
  daemon is healthy (event loop responsive, private WS connected, ledger writable, breaker
  closed); an unhealthy daemon lets the timer run out (LAPSE) so Kraken cancels the entry
  it can no longer look after — nothing that protects a position is lost by that;
* nothing of ours rests that increases risk → OFF (standby): there is nothing to cancel.
Also: disabled on a clean stop and ahead of maintenance; after a failure, left armed only
when orders of ours may remain and no protective stop rests (app/supervisor.py).
Imports: stdlib, clock, errors, domain, engine.protect (`SwitchNeed`), app.stack_protocol; the
REST client is passed in (`CancelAfterApi`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Any, Protocol

from krakenbot.app.stack_protocol import StackLike
from krakenbot.clock import Clock
from krakenbot.domain.enums import SystemState
from krakenbot.domain.sections import DeadManSwitchSection
from krakenbot.engine.protect import SwitchNeed
from krakenbot.errors import KrakenbotError

logger = logging.getLogger(__name__)
_RETRY_S = 1.0


class CancelAfterResultLike(Protocol):
    @property
    def trigger_time(self) -> str: ...


class SystemStatusLike(Protocol):
    @property
    def status(self) -> SystemState: ...


class CancelAfterApi(Protocol):
    """What the switch needs of the REST client."""

    async def cancel_all_orders_after(self, timeout_s: int) -> CancelAfterResultLike: ...

    async def system_status(self) -> SystemStatusLike: ...


class DmsAction(StrEnum):
    ARM = "arm"  # (re)arm with the configured timeout
    DISARM = "disarm"  # send timeout 0
    LAPSE = "lapse"  # send nothing: let an armed timer run out
    STANDBY = "standby"  # send nothing: not armed, and it must not be


class DmsState(StrEnum):
    OFF = "off"
    ARMED = "armed"
    PAUSED = "paused"  # disabled for exchange maintenance
    LAPSING = "lapsing"  # unhealthy: not refreshed, Kraken will cancel at the trigger time
    STANDBY = "standby"  # disabled: no entry rests, or a protective stop must survive


def dms_action(
    *, healthy: bool, system: SystemState | None, armed: bool, need: SwitchNeed | None = None
) -> DmsAction:
    """What to send this cycle. Maintenance wins over everything: the timer must not be
    armed when the engine returns from downtime. Then a needed protective stop: the switch
    would cancel it, so it is disarmed whatever the health (module docstring). Then the
    switch is wanted only while an entry rests (`need` None: always, as before `SwitchNeed`
    existed), refreshed only while healthy."""
    if system is SystemState.MAINTENANCE:
        return DmsAction.DISARM if armed else DmsAction.LAPSE
    if need is not None and (need.protection or not need.entry):
        return DmsAction.DISARM if armed else DmsAction.STANDBY
    if healthy:
        return DmsAction.ARM
    return DmsAction.LAPSE


class DeadMansSwitch:
    def __init__(
        self,
        api: CancelAfterApi,
        section: DeadManSwitchSection,
        *,
        healthy: Callable[[], bool],
        clock: Clock,
        on_change: Callable[[DmsState, str | None], None] | None = None,
        need: Callable[[], SwitchNeed] | None = None,
    ) -> None:
        self._api = api
        self._section = section
        self._healthy = healthy
        self._need = need
        self._poked = asyncio.Event()
        self._clock = clock
        self._on_change = on_change
        self.state = DmsState.OFF
        self.trigger_time: str | None = None
        self.last_error: str | None = None
        self.refreshes = 0
        # Told when a refresh fails or the switch lapses (notifications: app/notices.py).
        self.on_problem: Callable[[str], None] | None = None
        # An arm may have reached Kraken (sent, not yet confirmed disabled): only then does a
        # stop need to send timeout 0 (a rate-limited call that would otherwise slow it).
        self.maybe_armed = False
        # Until a send of ours is answered, Kraken's timer is unknown: an earlier process
        # killed while an entry rested left it armed (`disable` then looks at the need).
        self.confirmed = False

    @classmethod
    def for_stack(
        cls, stack: StackLike, section: DeadManSwitchSection, clock: Clock
    ) -> DeadMansSwitch | None:
        """The switch over the stack's REST client (None without one: paper), told by the
        engine what it must cover (and poked when that changes)."""
        if stack.rest is None:
            return None
        dms = cls(stack.rest, section, healthy=stack.healthy, clock=clock, need=stack.switch_need)
        stack.watch_switch_need(dms.poke)
        return dms

    def _set(self, state: DmsState, trigger: str | None) -> None:
        changed = state is not self.state
        self.state, self.trigger_time = state, trigger
        if changed:
            logger.info("dead man's switch %s", state.value, extra={"trigger_time": trigger})
            if self._on_change is not None:
                self._on_change(state, trigger)

    async def _system(self) -> SystemState | None:
        try:
            return (await self._api.system_status()).status
        except KrakenbotError as exc:
            logger.warning(
                "SystemStatus failed; assuming no maintenance", extra={"error": str(exc)}
            )
            return None

    async def step(self) -> DmsAction:
        """One refresh cycle: ask the policy, send what it says. Errors are logged, not raised:
        a failed refresh simply lets the timer run out, which is the safe direction."""
        need = self._need() if self._need is not None else None
        # Off whatever the exchange's state: no SystemStatus call before the disarm that a
        # needed protective stop is waiting for.
        off = need is not None and (need.protection or not need.entry)
        system = None if off else await self._system()
        # OFF is "unknown" too: an earlier process may have left Kraken's timer armed.
        armed = self.state in (DmsState.ARMED, DmsState.LAPSING, DmsState.OFF)
        action = dms_action(healthy=self._healthy(), system=system, armed=armed, need=need)
        maintenance = system is SystemState.MAINTENANCE
        try:
            if action is DmsAction.ARM:
                self.maybe_armed = True
                result = await self._api.cancel_all_orders_after(self._section.timeout_s)
                self.refreshes += 1
                self.confirmed = True
                self._set(DmsState.ARMED, result.trigger_time or None)
            elif action is DmsAction.DISARM:
                await self._api.cancel_all_orders_after(0)
                self.maybe_armed, self.confirmed = False, True
                self._set(DmsState.PAUSED if maintenance else DmsState.STANDBY, None)
            elif action is DmsAction.STANDBY:
                self._set(DmsState.STANDBY, None)
            elif maintenance:
                self._set(DmsState.PAUSED, None)
            elif self.state is DmsState.ARMED:
                self._set(DmsState.LAPSING, self.trigger_time)
                self._problem("the daemon is unhealthy: Kraken cancels our orders when it fires")
            self.last_error = None
        except KrakenbotError as exc:
            self.last_error = str(exc)
            logger.warning("dead man's switch refresh failed", extra={"error": str(exc)})
            self._problem(f"refresh failed: {exc}")
        return action

    def _problem(self, why: str) -> None:
        if self.on_problem is not None:
            self.on_problem(why)

    def _protecting(self) -> bool:
        """A position needs its protective stop (never without a `need`: no stops)."""
        return self._need is not None and self._need().protection

    def poke(self) -> None:
        """What the switch must cover changed (an entry, a position): decide again now."""
        self._poked.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh every `refresh_s` until `stop` is set (waits on the injected clock), and
        at once when poked. A stop never waits for a refresh in progress (one waiting for
        rate-limit headroom can take seconds): the refresh is abandoned and never arms the
        switch after the stop."""
        while not stop.is_set():
            self._poked.clear()
            if not await _until_stop(self.step(), stop):
                return
            # Until settled (start-up, a lapse, a failed send) look again every second;
            # armed or on standby, at the configured period (or when poked).
            period: float = self._section.refresh_s
            if self.state not in (DmsState.ARMED, DmsState.STANDBY) or self.last_error:
                period = min(period, _RETRY_S)
            await _until_stop(self._sleep_or_poke(period), stop)

    async def _sleep_or_poke(self, period: float) -> None:
        sleeper = asyncio.ensure_future(self._clock.sleep(period))
        poked = asyncio.ensure_future(self._poked.wait())
        try:
            await asyncio.wait({sleeper, poked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, poked):
                task.cancel()

    async def disable(self) -> bool:
        """Send timeout 0 (clean stop). True when Kraken confirmed it, or when there is
        nothing to disable: no arm of ours was ever sent, and either Kraken's timer is known
        to be off or no position needs its protective stop (a stop right after start-up
        stays quick). A timer left by an earlier process, not yet confirmed off by this one
        (its disarms refused or cut short by the stop), is disabled when a position needs
        its stop: Kraken would cancel the stop at the deadline."""
        if not self.maybe_armed and (self.confirmed or not self._protecting()):
            self._set(DmsState.OFF, None)
            return True
        try:
            await self._api.cancel_all_orders_after(0)
        except KrakenbotError as exc:
            self.last_error = str(exc)
            logger.warning("could not disable the dead man's switch", extra={"error": str(exc)})
            return False
        self.maybe_armed, self.confirmed = False, True
        self._set(DmsState.OFF, None)
        return True


async def _until_stop(work: Coroutine[Any, Any, object], stop: asyncio.Event) -> bool:
    """Run `work` until it finishes (True; its failure is raised) or `stop` is set (False:
    `work` is cancelled). Our own cancellation is never swallowed."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        stopper.cancel()
    if not task.done():
        task.cancel()
        await asyncio.wait({task})
        if not task.cancelled():
            task.result()
        return False
    task.result()
    return True
