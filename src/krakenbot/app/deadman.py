"""The dead man's switch: Kraken's CancelAllOrdersAfter, armed only while we are healthy.

Owns: `dms_action` (the pure policy) and `DeadMansSwitch` (the refresh loop). Kraken's advice
(docs: api-reference/trading/cancel-all-orders-after-x; websocket-v2/cancel_after): send a
60 s timeout every 15-30 s; a timeout of 0 disables it; disable it ahead of trading-engine
maintenance, because an armed timer cancels every order when the engine comes back.
Our rules on top: refresh only while the daemon is healthy (event loop responsive, private
WS connected, ledger writable, breaker closed) — an unhealthy daemon lets the timer run out
so Kraken cancels the orders it can no longer look after; disable on a clean stop; leave it
armed after a failure whose shutdown could not confirm every cancel. The switch cancels
EVERY order on the account, not only ours (the README says so).
Imports: stdlib, clock, errors, domain; the REST client is passed in (`CancelAfterApi`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Any, Protocol

from krakenbot.clock import Clock
from krakenbot.domain.enums import SystemState
from krakenbot.domain.sections import DeadManSwitchSection
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


class DmsState(StrEnum):
    OFF = "off"
    ARMED = "armed"
    PAUSED = "paused"  # disabled for exchange maintenance
    LAPSING = "lapsing"  # unhealthy: not refreshed, Kraken will cancel at the trigger time


def dms_action(*, healthy: bool, system: SystemState | None, armed: bool) -> DmsAction:
    """What to send this cycle. Maintenance wins over health: the timer must not be armed
    when the engine returns from downtime; otherwise refresh only while healthy."""
    if system is SystemState.MAINTENANCE:
        return DmsAction.DISARM if armed else DmsAction.LAPSE
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
    ) -> None:
        self._api = api
        self._section = section
        self._healthy = healthy
        self._clock = clock
        self._on_change = on_change
        self.state = DmsState.OFF
        self.trigger_time: str | None = None
        self.last_error: str | None = None
        self.refreshes = 0
        # An arm may have reached Kraken (sent, not yet confirmed disabled): only then does a
        # stop need to send timeout 0 (a rate-limited call that would otherwise slow it).
        self.maybe_armed = False

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
        system = await self._system()
        armed = self.state is DmsState.ARMED or self.state is DmsState.LAPSING
        action = dms_action(healthy=self._healthy(), system=system, armed=armed)
        try:
            if action is DmsAction.ARM:
                self.maybe_armed = True
                result = await self._api.cancel_all_orders_after(self._section.timeout_s)
                self.refreshes += 1
                self._set(DmsState.ARMED, result.trigger_time or None)
            elif action is DmsAction.DISARM:
                await self._api.cancel_all_orders_after(0)
                self.maybe_armed = False
                self._set(DmsState.PAUSED, None)
            elif system is SystemState.MAINTENANCE:
                self._set(DmsState.PAUSED, None)
            elif self.state is DmsState.ARMED:
                self._set(DmsState.LAPSING, self.trigger_time)
            self.last_error = None
        except KrakenbotError as exc:
            self.last_error = str(exc)
            logger.warning("dead man's switch refresh failed", extra={"error": str(exc)})
        return action

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh every `refresh_s` until `stop` is set (waits on the injected clock). A stop
        never waits for a refresh in progress (one waiting for rate-limit headroom can take
        seconds): the refresh is abandoned and never arms the switch after the stop."""
        while not stop.is_set():
            if not await _until_stop(self.step(), stop):
                return
            # Until armed (start-up, or after a lapse) look again every second, so the switch
            # covers the first orders; once armed, refresh at the configured period.
            period: float = self._section.refresh_s
            if self.state is not DmsState.ARMED:
                period = min(period, _RETRY_S)
            await _until_stop(self._clock.sleep(period), stop)

    async def disable(self) -> bool:
        """Send timeout 0 (clean stop). True when Kraken confirmed it, or when no arm was
        ever sent (nothing to disable: a stop right after start-up stays quick)."""
        if not self.maybe_armed:
            self._set(DmsState.OFF, None)
            return True
        try:
            await self._api.cancel_all_orders_after(0)
        except KrakenbotError as exc:
            self.last_error = str(exc)
            logger.warning("could not disable the dead man's switch", extra={"error": str(exc)})
            return False
        self.maybe_armed = False
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
