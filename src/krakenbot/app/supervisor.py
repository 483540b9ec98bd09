"""The running daemon: ONE asyncio.TaskGroup, graceful stop and safe stop.

Owns: `Daemon` — runs the stack's services, the dead man's switch, the health server's
report, the periodic jobs, the start-up watch (WebSocket sessions connected) and the
`--duration` timer in one TaskGroup. A graceful stop (signal, stop request, duration) says
"no new orders", lets the stack cancel our open orders, confirm, and put every position under
its protective stop (the switch disarmed before one is placed), bounded, then disables the
dead man's switch; it exits 1, not 0, when a position is left without its stop
(app/outcomes.py). If any task fails the whole group is cancelled and the daemon goes to the
safe state: no new orders, cancel what it still can, cover the positions likewise, record why
in `events`, leave the dead man's switch armed when orders may remain and no protective stop
rests (Kraken then cancels them; a resting protective stop disarms it, the entries expire by
themselves: GTD) — never half-alive. Imports: anything (composition root).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from krakenbot.app.daemon_report import daemon_report
from krakenbot.app.deadman import DeadMansSwitch, DmsState
from krakenbot.app.exitcodes import RunExit
from krakenbot.app.outcomes import describe, first_leaf, stop_problems
from krakenbot.app.stack_protocol import StackLike
from krakenbot.app.status_model import (
    StatusReport,
    jsonable,
)
from krakenbot.clock import Clock
from krakenbot.domain.enums import ConnectionState
from krakenbot.engine.health import ShutdownReport
from krakenbot.store import LedgerRepository

logger = logging.getLogger(__name__)

SNAPSHOT_EVERY_S = 5.0
STATUS_STATE_KEY = "daemon_status"
DMS_STATE_KEY = "dms_trigger_time"


class ComponentFailedError(Exception):
    """A long-running task ended or failed; `component` names it."""

    def __init__(self, component: str, message: str, exit_status: RunExit = RunExit.FAILED):
        super().__init__(f"{component}: {message}")
        self.component = component
        self.exit_status = exit_status


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    mode: str  # paper | live | sim
    live_path: bool
    shutdown_timeout_s: float = 15.0
    startup_timeout_s: float = 30.0
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class RunOutcome:
    exit_status: RunExit
    reason: str
    failed_component: str | None = None


class Daemon:
    def __init__(
        self,
        *,
        config: DaemonConfig,
        stack: StackLike,
        repo: LedgerRepository,
        clock: Clock,
        dms: DeadMansSwitch | None,
        started_ns: int,
        data_files: dict[str, str],
        extra_tasks: tuple[tuple[str, Callable[[asyncio.Event], Awaitable[None]]], ...] = (),
    ) -> None:
        self.config = config
        self.stack = stack
        self.repo = repo
        self.clock = clock
        self.dms = dms
        self.started_ns = started_ns
        self.data_files = data_files
        self._extra = list(extra_tasks)
        self._stop = asyncio.Event()  # graceful stop requested
        self._done = asyncio.Event()  # shutdown finished: the auxiliary tasks end
        self.ready = asyncio.Event()  # start-up finished (WebSocket sessions connected)
        self.stop_reason: str | None = None
        self.shutdown_report: ShutdownReport | None = None
        self.phase = "websocket"
        # Notification counters by target kind, for the status report (app/observers.py).
        self.notifications: Callable[[], dict[str, dict[str, int]]] = dict
        self._dms_task: asyncio.Task[None] | None = None

    def add_job(self, name: str, job: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """Another task for the group; `job(done)` must return once `done` is set."""
        self._extra.append((name, job))

    # ------------------------------------------------------------------ control
    def request_stop(self, reason: str) -> None:
        """Graceful stop (signal, stop request, --duration). Idempotent; first reason wins."""
        if self._stop.is_set():
            return
        self.stop_reason = reason
        logger.info("stop requested", extra={"reason": reason})
        self._stop.set()
        self.stack.request_stop(reason)

    async def emergency(self, reason: str, timeout_s: float = 10.0) -> bool:
        """`stop --cancel-all` reaching a live daemon: `cancel_all`, then a graceful stop.
        True when the cancel-all completed within `timeout_s`."""
        done = await self.cancel_all(reason, timeout_s)
        self.request_stop(f"emergency stop: {reason}")
        return done

    async def cancel_all(self, reason: str, timeout_s: float = 10.0) -> bool:
        """Trading HALTED (persisted) and a cancel of each of our orders, the protective
        stops too, through the risk gate (the stack's emergency stop; never anyone else's
        order). True when it completed within `timeout_s`."""
        if self._done.is_set():
            return False
        try:
            async with asyncio.timeout(timeout_s):
                await self.stack.emergency_stop(reason)
        except Exception as exc:  # `stop --cancel-all` cancels directly through REST anyway
            logger.error("emergency stop failed", extra={"error": describe(exc)})
            return False
        return True

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def report(self) -> StatusReport:
        """What `status` and `/health` show of this daemon (app/daemon_report.py)."""
        return daemon_report(self)

    # ------------------------------------------------------------------ run
    async def run(self) -> RunOutcome:
        failure: BaseException | None = None
        try:
            async with asyncio.TaskGroup() as tg:
                for name, fn in self.stack.services():
                    tg.create_task(self._service(name, fn), name=f"service:{name}")
                if self.dms is not None:
                    # Refreshed until a stop is requested, never after (disabled at the end).
                    self._dms_task = tg.create_task(
                        self._guard("dead man's switch", self.dms.run(self._stop))
                    )
                tg.create_task(self._guard("periodic jobs", self._periodic()))
                tg.create_task(self._guard("start-up", self._startup_watch()))
                for name, job in self._extra:
                    tg.create_task(self._guard(name, job(self._done)))
                if self.config.duration_s is not None:
                    tg.create_task(self._guard("duration", self._duration(self.config.duration_s)))
                tg.create_task(self._guard("shutdown", self._stopper()))
        except* Exception as group:
            failure = first_leaf(group, ComponentFailedError)
        if failure is None:
            return await self._finish_clean()
        return await self._safe_stop(failure)

    async def _service(self, name: str, fn: Callable[[], Awaitable[None]]) -> None:
        try:
            await fn()
        except ComponentFailedError:
            raise
        except Exception as exc:
            raise ComponentFailedError(name, describe(exc), self._fail_exit(name)) from exc
        if not self._stop.is_set():
            raise ComponentFailedError(name, "ended unexpectedly", self._fail_exit(name))

    def _fail_exit(self, name: str = "") -> RunExit:
        """Before the daemon is running, a failure is the start-up step it belongs to: the
        WebSocket sessions (8) or the engine (9); afterwards it is a run-time failure (1)."""
        if self.phase == "running":
            return RunExit.FAILED
        if name.startswith(("ws", "websocket")):
            return RunExit.WEBSOCKET
        return RunExit.ENGINE

    async def _guard(self, name: str, work: Awaitable[None]) -> None:
        try:
            await work
        except ComponentFailedError:
            raise
        except Exception as exc:
            raise ComponentFailedError(name, describe(exc), self._fail_exit(name)) from exc

    async def _wait_done(self, seconds: float) -> bool:
        """Sleep up to `seconds` (real time); True when the daemon is done."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._done.wait()
        return self._done.is_set()

    async def _startup_watch(self) -> None:
        """Start-up step 'WebSocket sessions': connected within the start-up timeout."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.config.startup_timeout_s
        while not self._done.is_set():
            pending = self._ws_pending()
            if not pending:
                break
            if loop.time() > give_up:
                raise ComponentFailedError(
                    "websocket",
                    f"{' and '.join(pending)} WebSocket not connected after "
                    f"{self.config.startup_timeout_s:g} s",
                    RunExit.WEBSOCKET,
                )
            if await self._wait_done(0.05):
                return
        self.phase = "running"
        self.ready.set()
        logger.info("krakenbot is running", extra={"mode": self.config.mode})

    def _ws_pending(self) -> list[str]:
        health = self.stack.health()
        pending: list[str] = []
        wanted = [("public", health.ws_public)]
        if self.config.live_path:
            wanted.append(("private", health.ws_private))
        for label, state in wanted:
            if state is not ConnectionState.CONNECTED:
                pending.append(label)
        return pending

    async def _duration(self, seconds: float) -> None:
        if not await self._wait_done(seconds):
            self.request_stop(f"--duration {seconds:g} s elapsed")

    async def _periodic(self) -> None:
        """Keep the last known status in the ledger, so `status` can show it when we are down."""
        while True:
            await self._snapshot()
            if await self._wait_done(SNAPSHOT_EVERY_S):
                return

    async def _snapshot(self) -> None:
        """A failed write is reported to the stack's ledger watch, which makes the engine
        unhealthy at once and the daemon stop safely if writes keep failing for
        LEDGER_FAILURE_GRACE_S."""
        note, started = self.stack.ledger_write, self.clock.monotonic_ns()
        try:
            doc = self.report().to_json()
            await self.repo.set_state(STATUS_STATE_KEY, json.dumps(doc, sort_keys=True))
            if self.dms is not None and self.dms.trigger_time:
                await self.repo.set_state(DMS_STATE_KEY, self.dms.trigger_time)
        except Exception as exc:
            note("status snapshot", exc, started)
            return
        note("status snapshot", None)

    async def _stopper(self) -> None:
        await self._stop.wait()
        try:
            async with asyncio.timeout(self.config.shutdown_timeout_s + 5):
                self.shutdown_report = await self.stack.shutdown(
                    self.config.shutdown_timeout_s, self._disarm_switch()
                )
        finally:
            self._done.set()

    def _disarm_switch(self) -> Callable[[], Awaitable[bool]] | None:
        """What the shutdown awaits before it places a protective stop: the dead man's
        switch disabled (Kraken's CancelAllOrdersAfter would cancel the stop too), once its
        refresh loop has ended (no arm of it may land after the disarm)."""
        dms, loop = self.dms, self._dms_task
        if dms is None:
            return None

        async def disarm() -> bool:
            if loop is not None and not loop.done():
                await asyncio.wait({loop}, timeout=5.0)
            return await dms.disable()

        return disarm

    # ------------------------------------------------------------------ endings
    async def _finish_clean(self) -> RunOutcome:
        """Exit 0, unless a position is left without its protective stop at the exchange
        (or the switch that would cancel one may still be armed): then exit 1."""
        reason = self.stop_reason or "stopped"
        report = self.shutdown_report
        disarmed = True
        if self.dms is not None:
            disarmed = await self.dms.disable() or await self.dms.disable()
        problems = stop_problems(report, disarmed=disarmed)
        status = RunExit.FAILED if problems else RunExit.OK
        if problems:
            reason = f"{reason}; {'; '.join(problems)}"
            logger.error("stopped, but a position is not protected: %s", "; ".join(problems))
        await self._record(
            "daemon_stopped",
            {"reason": reason, "exit_status": int(status), "shutdown": jsonable(report)},
        )
        await self._final_snapshot(stopped=True)
        return RunOutcome(status, reason, "shutdown" if problems else None)

    async def _safe_stop(self, failure: BaseException) -> RunOutcome:
        component = failure.component if isinstance(failure, ComponentFailedError) else "daemon"
        exit_status = (
            failure.exit_status if isinstance(failure, ComponentFailedError) else RunExit.FAILED
        )
        message = str(failure)
        # A failure the daemon diagnosed itself (no underlying exception, e.g. the start-up
        # watch timing out) is fully told by its message: a traceback would be noise.
        diagnosed = isinstance(failure, ComponentFailedError) and failure.__cause__ is None
        logger.error(
            "a component failed: going to the safe state",
            extra={"component": component, "error": message},
            exc_info=None if diagnosed else (type(failure), failure, failure.__traceback__),
        )
        self.stack.request_stop(f"failure: {message}")
        self._stop.set()
        remaining: int | None = None  # None: unknown
        budget = self.config.shutdown_timeout_s
        try:
            async with asyncio.timeout(budget):
                report = self.shutdown_report = await self.stack.shutdown(
                    budget * 0.8, self._disarm_switch()
                )
            remaining = max(len(report.still_open), self.stack.health().open_orders)
        except Exception as exc:
            logger.error("safe stop could not finish cancelling", extra={"error": str(exc)})
        kept = self.shutdown_report.kept if self.shutdown_report is not None else ()
        disarmed: bool | None = None  # None: left armed on purpose, or no switch
        if self.dms is not None:
            # A protective stop left resting must survive the switch; an entry that may
            # remain expires by itself (GTD at the switch's timeout: app/deadman.py). A
            # shutdown that failed reports no stop: the position that needs one decides.
            # Tried twice, as a clean stop does: one transient refusal must not leave the
            # switch to cancel the stop at its deadline.
            if remaining == 0 or kept or self.stack.switch_need().protection:
                disarmed = await self.dms.disable() or await self.dms.disable()
                if not disarmed and kept:
                    problem = stop_problems(self.shutdown_report, disarmed=False)
                    message = f"{message}; {'; '.join(problem)}"
                    logger.error("safe stop: a position is not protected: %s", problem[0])
            else:
                logger.warning(
                    "leaving the dead man's switch armed: open orders may remain and Kraken "
                    "will cancel them when it fires",
                    extra={"trigger_time": self.dms.trigger_time},
                )
        await self._record(
            "daemon_failed",
            {
                "component": component,
                "error": message,
                "exit_status": int(exit_status),
                "open_orders_after": remaining,
                "dms": self.dms.state.value if self.dms else DmsState.OFF.value,
                "dms_disarmed": disarmed,
                "shutdown": jsonable(self.shutdown_report),
            },
        )
        await self._final_snapshot(stopped=True)
        return RunOutcome(exit_status, message, component)

    async def _record(self, kind: str, payload: dict[str, object]) -> None:
        try:
            await self.repo.record_event(kind, payload)
        except Exception as exc:  # the ledger may be what failed: the log still has it
            logger.error("could not record %s", kind, extra={"error": str(exc)})

    async def _final_snapshot(self, *, stopped: bool) -> None:
        try:
            doc = self.report().to_json()
            doc["running"] = not stopped
            doc["stopped_ns"] = self.clock.now_ns()
            await self.repo.set_state(STATUS_STATE_KEY, json.dumps(doc, sort_keys=True))
        except Exception as exc:
            logger.error("could not write the final status", extra={"error": str(exc)})
