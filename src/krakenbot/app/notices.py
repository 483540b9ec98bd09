"""What the daemon tells its operator, in which words, and when (NOTIFY_URLS).

Owns: `Notices` — turns what happens into messages for the `Notifier` (app/notifier.py):
the engine core's notices (a fill, a position closed with its PnL, trading HALTED, the daily
loss halt: `Notify` effects with a `NoticeKind`, app/observers.py hands them over), the
circuit breaker's transitions (open, closed again), the dead man's switch not refreshed
(a failed refresh, or lapsing while the daemon is unhealthy: at most one per
`dms_every_s`), the first failed write of a ledger outage, the daemon started / stopped /
failed (start-up failures included), and the daily summary at NOTIFY_DAILY_SUMMARY_UTC,
read from the daemon's status report (the figures `status` shows). Every call is
synchronous and only queues: nothing here waits on an endpoint. `serve` is the daemon's
TaskGroup job (the notifier's workers, the start announcement, the daily summary) and never
raises. Imports: stdlib, app, clock, domain, logs (redaction), resilience.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any

from krakenbot.app.notifier import Notifier
from krakenbot.app.notify_targets import NotifySection
from krakenbot.app.status_model import StatusReport
from krakenbot.clock import Clock
from krakenbot.domain.effects import Notify
from krakenbot.domain.enums import NoticeKind
from krakenbot.logs import redact_text
from krakenbot.resilience.breaker import BreakerState, BreakerTransition

logger = logging.getLogger(__name__)
_NS = 1_000_000_000
_SLICE_S = 60.0  # the summary's wait is re-checked this often (a wall clock may be stepped)

_ENGINE_TEXT: dict[NoticeKind, Callable[[Mapping[str, str]], str]] = {
    NoticeKind.FILL: lambda f: (
        f"fill: {f.get('side', '?')} {f.get('qty', '?')} {f.get('symbol', '?')} "
        f"@ {f.get('price', '?')} (fee {f.get('fee', '?')})"
    ),
    NoticeKind.POSITION_CLOSED: lambda f: (
        f"position closed: {f.get('symbol', '?')}, PnL {f.get('pnl', '?')} ({f.get('outcome')})"
    ),
    NoticeKind.RISK_HALT: lambda f: f"trading HALTED: {f.get('reason', '?')}",
    NoticeKind.DAILY_LOSS_HALT: lambda f: (
        f"daily loss limit reached: no new entries until UTC midnight ({f.get('reason', '?')})"
    ),
}


class Notices:
    def __init__(
        self,
        notifier: Notifier,
        clock: Clock,
        *,
        daily_summary_utc: time | None = None,
        dms_every_s: float = 900.0,
    ) -> None:
        self.notifier = notifier
        self._clock = clock
        self._summary_at = daily_summary_utc
        self._dms_every_ns = int(dms_every_s * _NS)
        self._dms_last_ns: int | None = None
        self._ledger_ok = True
        self.summaries = 0

    def _say(self, kind: NoticeKind, text: str, warning: bool = False, **fields: str) -> None:
        self.notifier.notify(kind, text, fields, warning=warning)

    # ---------------------------------------------------------------- the engine (hooks)
    def engine_notice(self, effect: Notify) -> None:
        kind = effect.notice
        if kind is None:
            return
        words = _ENGINE_TEXT.get(kind)
        text = words(effect.fields) if words is not None else effect.message
        self.notifier.notify(kind, text, effect.fields, warning=effect.warning)

    def ledger_write(self, operation: str, ok: bool) -> None:
        """The first failed write of an outage is news; the rest of it is not."""
        if ok:
            self._ledger_ok = True
            return
        if self._ledger_ok:
            self._ledger_ok = False
            self._say(
                NoticeKind.LEDGER_FAILURE,
                f"ledger write failing ({operation}): no new orders until writes work again; "
                "the daemon stops safely if they keep failing",
                True,
                operation=operation,
            )

    # ---------------------------------------------------------------- breaker, switch
    def breaker(self, transition: BreakerTransition) -> None:
        """`CircuitBreaker.subscribe` callback."""
        if transition.new is BreakerState.OPEN and transition.old is not BreakerState.OPEN:
            text = f"circuit breaker OPEN: no new entries ({transition.reason})"
            self._say(NoticeKind.BREAKER_OPEN, text, True, reason=transition.reason)
        elif transition.new is BreakerState.CLOSED and transition.old is not BreakerState.CLOSED:
            self._say(NoticeKind.BREAKER_CLOSED, "circuit breaker closed: entries allowed again")

    def dms_problem(self, why: str) -> None:
        """The dead man's switch could not be refreshed (at most one per `dms_every_s`)."""
        now = self._clock.monotonic_ns()
        if self._dms_last_ns is not None and now - self._dms_last_ns < self._dms_every_ns:
            return
        self._dms_last_ns = now
        text = f"dead man's switch not refreshed: {why}"
        self._say(NoticeKind.DMS_NOT_REFRESHED, text, True, reason=why)

    # ---------------------------------------------------------------- the daemon
    def started(self, mode: str) -> None:
        self._say(NoticeKind.STARTED, f"started ({mode})", mode=mode)

    def finished(self, ok: bool, reason: str, exit_status: int) -> None:
        if ok:
            self._say(NoticeKind.STOPPED, f"stopped: {reason}", exit_status=str(exit_status))
        else:
            text = f"FAILED (exit status {exit_status}): {reason}"
            self._say(NoticeKind.FAILED, text, True, exit_status=str(exit_status), reason=reason)

    @asynccontextmanager
    async def lifetime(self) -> AsyncIterator[Notices]:
        """Around the daemon's start-up and run: a start-up failure is told too, and what is
        still queued at the end is sent within the notifier's final budget."""
        try:
            yield self
        except Exception as exc:
            step = getattr(exc, "step", None)
            reason = f"start-up failed at step '{step}': {exc}" if step else f"failed: {exc!r}"
            code = int(getattr(exc, "exit_status", 1))
            self.finished(False, reason, code)
            await self.notifier.flush()
            raise
        await self.notifier.flush()

    async def serve(
        self,
        done: asyncio.Event,
        ready: asyncio.Event,
        mode: str,
        report: Callable[[], StatusReport],
    ) -> None:
        """The daemon's job: the notifier's workers, "started" once the daemon runs, and
        the daily summary; until `done`. A failure here is logged, never raised: the
        notifications must not stop the daemon."""
        if not self.notifier.enabled:
            return
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.notifier.run(done))
                tg.create_task(self._announce(done, ready, mode))
                if self._summary_at is not None:
                    tg.create_task(self._daily(done, self._summary_at, report))
        except Exception:
            logger.exception("notifications stopped working (the daemon goes on)")

    async def _announce(self, done: asyncio.Event, ready: asyncio.Event, mode: str) -> None:
        if await _first(ready.wait(), done) and not done.is_set():
            self.started(mode)

    async def _daily(
        self, done: asyncio.Event, at: time, report: Callable[[], StatusReport]
    ) -> None:
        due = next_summary_ns(self._clock.now_ns(), at)
        while not done.is_set():
            left_s = (due - self._clock.now_ns()) / _NS
            if left_s <= 0:
                self.summary(report())
                due = next_summary_ns(max(self._clock.now_ns(), due + _NS), at)
                continue
            await _first(self._clock.sleep(min(left_s, _SLICE_S)), done)

    def summary(self, report: StatusReport) -> None:
        self.summaries += 1
        fields = summary_fields(report)
        positions = fields["positions"] or "flat"
        text = (
            f"daily summary: PnL today {fields['daily_pnl']} (realized total "
            f"{fields['total_pnl']}, unrealized {fields['unrealized_pnl']}), positions "
            f"{positions}, open orders {fields['open_orders']}, orders {fields['orders']}, "
            f"fills {fields['fills']}, risk denials {fields['denials']}, trading "
            f"{fields['trading_state']}, breaker {fields['breaker_state']}"
        )
        self.notifier.notify(NoticeKind.DAILY_SUMMARY, text, fields)


def summary_fields(report: StatusReport) -> dict[str, str]:
    """The daily summary's figures, as the status report has them (rounded there)."""
    counts = report.counts
    return {
        "daily_pnl": str(report.daily_pnl or "unknown"),
        "total_pnl": str(report.total_pnl or "0"),
        "unrealized_pnl": str(report.unrealized_pnl or "unknown"),
        "fees": str(report.fees or "0"),
        "positions": ", ".join(f"{s} {q}" for s, q in report.position.items()),
        "open_orders": str(report.open_orders if report.open_orders is not None else "?"),
        "orders": str(counts.get("orders", 0)),
        "fills": str(counts.get("fills", 0)),
        "denials": str(counts.get("denials", 0)),
        "trading_state": str(report.trading_state or "?"),
        "breaker_state": str(report.breaker_state or "?"),
    }


def next_summary_ns(now_ns: int, at: time) -> int:
    """The next moment at `at` (UTC) strictly after `now_ns`."""
    now = datetime.fromtimestamp(now_ns / _NS, UTC)
    due = datetime.combine(now.date(), at, tzinfo=UTC)
    if due <= now:
        due += timedelta(days=1)
    return int(due.timestamp()) * _NS


async def _first(work: Coroutine[Any, Any, Any], done: asyncio.Event) -> bool:
    """Run `work` until it ends (True) or `done` is set (False: `work` is cancelled)."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(done.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (task, stop):
            t.cancel()
        await asyncio.gather(task, stop, return_exceptions=True)
    return not task.cancelled() and task.exception() is None


def build_notices(
    section: NotifySection, mode: str, clock: Clock, secrets: Sequence[str] = ()
) -> Notices:
    """The daemon's notifications (no targets: every call is a no-op); `secrets` are
    scrubbed from every text that leaves, as from the log."""
    notifier = Notifier(
        section.targets,
        mode=mode,
        clock=clock,
        rng=random.Random(),
        redact=lambda text: redact_text(text, secrets),
    )
    return Notices(notifier, clock, daily_summary_utc=section.daily_summary_utc)
