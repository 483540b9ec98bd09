"""The running daemon's status report: what `status`, `/health` and the dashboard show.

Owns: `daemon_report(daemon)` — the engine's health value turned into a `StatusReport` with
the dead man's switch, the data files and the notification counters; when the engine cannot
answer, a report that says so (the report must answer even when the engine is broken).
Imports: app, engine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from typing import TYPE_CHECKING

from krakenbot.app.status_model import (
    StatusReport,
    amount_decimals,
    from_engine_health,
    price_places,
)

if TYPE_CHECKING:
    from krakenbot.app.supervisor import Daemon


def daemon_report(daemon: Daemon) -> StatusReport:
    """The report of `daemon` now."""
    dms_state = daemon.dms.state.value if daemon.dms else None
    trigger = daemon.dms.trigger_time if daemon.dms else None
    try:
        health = daemon.stack.health()
        healthy = daemon.stack.healthy()
    except Exception as exc:  # the report must answer even when the engine is broken
        return StatusReport(
            running=True,
            source="daemon",
            pid=os.getpid(),
            mode=daemon.config.mode,
            started_ns=daemon.started_ns,
            last_error=f"health unavailable: {exc}",
            healthy=False,
            stopping=daemon.stopping,
            dms_state=dms_state,
            dms_trigger_time=trigger,
            data_files=daemon.data_files,
        )
    report = from_engine_health(
        health,
        now_ns=daemon.clock.now_ns(),
        pid=os.getpid(),
        mode=daemon.config.mode,
        started_ns=daemon.started_ns,
        healthy=healthy,
        dms_state=dms_state,
        dms_trigger_time=trigger,
        data_files=daemon.data_files,
        stopping=daemon.stopping,
        decimals=amount_decimals(daemon.stack.instruments),
        price_decimals=price_places(daemon.stack.instruments),
        notifications=daemon.notifications(),
    )
    return dataclasses.replace(report, asyncio_tasks=_task_count())


def _task_count() -> int | None:
    """Tasks alive in the running event loop (None outside one): the soak test's leak gauge."""
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:
        return None
