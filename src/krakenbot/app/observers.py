"""The runner's observer: the daemon's metrics and notifications plugged into the stack.

Owns: `DaemonHooks` (implements engine/observe.py's `EngineObserver`: timings go to the
metrics, the core's notices and ledger failures to the notifications), `attach`, which
builds the daemon's `DaemonMetrics` over a running stack and hooks both in, and `wire`,
which connects the notifications to the breaker, the dead man's switch and the daemon (its
job, its status report) and their counters to /metrics. Imports: app, clock, domain.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Protocol

from krakenbot.app.metrics import DaemonMetrics, StackSource
from krakenbot.app.notices import Notices
from krakenbot.app.stack_protocol import StackLike
from krakenbot.app.supervisor import Daemon
from krakenbot.clock import Clock
from krakenbot.domain.effects import Notify, SendOrder
from krakenbot.domain.events import Event


class NoticeSink(Protocol):
    """What the hooks tell the notifications (app/notices.py)."""

    def engine_notice(self, effect: Notify) -> None: ...

    def ledger_write(self, operation: str, ok: bool) -> None: ...


class DaemonHooks:
    """`EngineObserver` for the daemon: cheap, synchronous, never raises into the runner."""

    def __init__(self, metrics: DaemonMetrics, notices: NoticeSink | None = None) -> None:
        self.metrics = metrics
        self.notices = notices

    def order_handed(self, effect: SendOrder) -> None:
        self.metrics.order_handed(effect)

    def notice(self, effect: Notify) -> None:
        if self.notices is not None:
            self.notices.engine_notice(effect)

    def event_taken(self, channel: str, event: Event, taken_ns: int) -> None:
        self.metrics.event_taken(channel, event, taken_ns)

    def ledger_write(self, operation: str, seconds: float, ok: bool) -> None:
        self.metrics.ledger_write(operation, seconds, ok)
        if self.notices is not None:
            self.notices.ledger_write(operation, ok)


def attach(stack: StackLike, clock: Clock, notices: NoticeSink | None = None) -> DaemonMetrics:
    """The daemon's metrics over `stack`, with the stack's hooks feeding them (and
    `notices`, when notifications are configured)."""
    source = StackSource(
        health=stack.health,
        pairs=tuple(stack.instruments),
        max_exposure_usd=stack.limits.max_total_exposure_usd,
        rest=stack.rest,
        sessions=stack.session_stats(),
        now_ns=clock.now_ns,
    )
    metrics = DaemonMetrics(source)
    stack.observe(DaemonHooks(metrics, notices), metrics)
    return metrics


def wire(
    notices: Notices, *, stack: StackLike, daemon: Daemon, metrics: DaemonMetrics, mode: str
) -> None:
    """Notifications of the breaker, the dead man's switch and the daemon itself (its
    TaskGroup job: app/notices.py), their counters in `status` and /metrics."""
    stack.breaker.subscribe(notices.breaker)
    if daemon.dms is not None:
        daemon.dms.on_problem = notices.dms_problem
    counts = notices.notifier.counts
    metrics.notifications = counts
    daemon.notifications = lambda: {kind: asdict(c) for kind, c in counts().items()}
    daemon.add_job(
        "notifications", lambda done: notices.serve(done, daemon.ready, mode, daemon.report)
    )
