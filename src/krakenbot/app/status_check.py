"""`krakenbot status` / scripts/simple_status.py: is the daemon running, and is it healthy?

Owns: `collect_status` — the daemon app/discover.py found (registry entry or lock file) is
asked on `GET /health` (the URL its entry names); with none, the ledger is described (the
last status snapshot the daemon wrote, open orders, last failure; positions and PnL from the
ledger's fills through the engine's own portfolio, valued at the daemon's last marks). With
`exchange=True` Kraken is asked for balances and open orders (status key preferred) and the
differences from the ledger are listed. Verdicts: app.exitcodes.StatusExit.
Imports: anything (composition root).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from dataclasses import replace
from decimal import Decimal
from typing import Any

import aiohttp

from krakenbot.app.exchange_view import compare, exchange_snapshot, operator_client, operator_key
from krakenbot.app.exitcodes import StatusExit
from krakenbot.app.registry import DaemonEntry
from krakenbot.app.status_model import StatusReport, assess, rounded
from krakenbot.app.supervisor import DMS_STATE_KEY, STATUS_STATE_KEY
from krakenbot.clock import Clock, SystemClock
from krakenbot.config import Settings
from krakenbot.domain.portfolio import utc_day
from krakenbot.errors import KrakenbotError
from krakenbot.store import Database, LedgerRepository

NS = 1_000_000_000


async def fetch_health(url: str, timeout_s: float) -> dict[str, Any]:
    async with (
        asyncio.timeout(timeout_s),
        aiohttp.ClientSession() as session,
        session.get(f"{url}/health") as response,
    ):
        doc = await response.json(content_type=None)
    if not isinstance(doc, dict):
        raise ValueError("/health did not return a JSON object")
    return doc


def files_in_use(settings: Settings) -> dict[str, str]:
    """The data files, as absolute paths: `status` may run in another folder."""
    return {
        "database": os.path.abspath(settings.database_path),
        "log": os.path.abspath(settings.log_file),
        "lock": os.path.abspath(settings.lock_file),
        "data_dir": os.path.abspath(settings.data_dir),
    }


async def ledger_report(settings: Settings, clock: Clock) -> StatusReport:
    """What the ledger says while the daemon is down (raises sqlite3.Error/OSError)."""
    base = StatusReport(running=False, source="database", data_files=files_in_use(settings))
    path = settings.database_path
    if not path.is_file():
        return replace(base, last_error=f"no database at {path} yet")
    db = await Database.open(path)
    try:
        repo = LedgerRepository(db, clock)
        snapshot = await repo.get_state(STATUS_STATE_KEY)
        report = base
        if snapshot:
            with_running = json.loads(snapshot)
            if isinstance(with_running, dict):
                last = StatusReport.from_json(with_running)
                # What described the live process (its connections, its book) is gone with it.
                report = replace(
                    last,
                    running=False,
                    source="database",
                    uptime_s=None,
                    market_data_age_s=None,
                    stopping=False,
                    healthy=None,
                    ws_public=None,
                    ws_private=None,
                    book_verified=None,
                    data_files=base.data_files,
                )
        open_orders = await repo.open_orders()
        # The same portfolio the engine keeps, from the same fills in the same order; the
        # marks are the last ones the daemon reported (its final snapshot).
        portfolio = await repo.load_portfolio()
        pnl = portfolio.report(utc_day(clock.now_ns()), report.mark_prices())
        failures = await repo.events("daemon_failed", limit=1)
        stops = await repo.events("daemon_stopped", limit=1)
        last_error = report.last_error
        if failures and (not stops or failures[-1].ts_ns > stops[-1].ts_ns):
            payload = failures[-1].payload
            last_error = f"{payload.get('component')}: {payload.get('error')}"
        trading_state = await repo.get_state("trading_state") or report.trading_state
        dms = await repo.get_state(DMS_STATE_KEY)
        # A switch the daemon disabled (its last word: "off") fires at no time.
        trigger = None if report.dms_state == "off" else dms or report.dms_trigger_time
        return rounded(
            replace(
                report.with_pnl(pnl),
                open_orders=len(open_orders),
                last_error=last_error,
                trading_state=trading_state,
                dms_trigger_time=trigger,
            )
        )
    finally:
        await db.close()


async def _with_exchange(settings: Settings, report: StatusReport, clock: Clock) -> StatusReport:
    key = operator_key(settings)
    if key is None:
        return replace(report, exchange={"error": "no API key configured (KRAKEN_STATUS_API_KEY)"})
    try:
        async with operator_client(settings, key, clock=clock) as client:
            snap = await exchange_snapshot(client)
    except KrakenbotError as exc:
        return replace(report, exchange={"error": str(exc), "key": key.which})
    ledger_open: dict[str, str] = {}
    ledger_position: dict[str, Decimal] = {}
    if settings.database_path.is_file():
        db = await Database.open(settings.database_path)
        try:
            repo = LedgerRepository(db, clock)
            for order in await repo.open_orders():
                ledger_open[order.txid or order.cl_ord_id] = order.symbol
            ledger_position = (await repo.load_portfolio()).positions()
        finally:
            await db.close()
    # Orders that are not krakenbot's are listed (as foreign), not compared with the ledger.
    exchange_open = {
        str(o["txid"]): str(o["pair"]) for o in snap["open_orders"] if not o["foreign"]
    }
    balances = {k: Decimal(v) for k, v in snap["balances"].items()}
    snap["key"] = key.which
    snap["differences"] = compare(ledger_open, exchange_open, ledger_position, balances)
    return replace(report, exchange=snap)


async def collect_status(
    settings: Settings | None,
    target: DaemonEntry | None = None,
    *,
    exchange: bool = False,
    timeout_s: float = 5.0,
    clock: Clock | None = None,
) -> tuple[StatusReport, StatusExit, str | None]:
    """(report, verdict, why-cannot-tell) for `target` (app/discover.py; None: no daemon
    runs, so the ledger named by `settings` is described). Never raises for an unreachable
    daemon or ledger."""
    clock = clock or SystemClock()
    note: str | None = None
    if target is not None:
        pid = target.pid
        files = entry_files(target)
        if target.health_url is None:
            report = StatusReport(running=True, source="registry", pid=pid, mode=target.mode)
            report = replace(report, data_files=files, started_ns=target.started_ns or None)
            return report, StatusExit.UNKNOWN, "the daemon is starting (no health server yet)"
        try:
            doc = await fetch_health(target.health_url, timeout_s)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            report = StatusReport(
                running=True,
                source="registry",
                pid=pid,
                mode=target.mode,
                started_ns=target.started_ns or None,
                data_files=files,
            )
            why = f"PID {pid} is running but /health did not answer ({type(exc).__name__})"
            return report, StatusExit.UNKNOWN, why
        report = replace(StatusReport.from_json(doc), data_files=files)
    elif settings is None:
        report = StatusReport(running=False, source="database")
        return report, StatusExit.UNKNOWN, "the settings cannot be read"
    else:
        try:
            report = await ledger_report(settings, clock)
        except (sqlite3.Error, OSError, ValueError, KrakenbotError) as exc:
            files = files_in_use(settings)
            report = StatusReport(running=False, source="database", data_files=files)
            note = f"cannot read the database: {exc}"
    if exchange and target is not None and target.mode == "sim":
        # Its exchange is the simulator inside it; the settings' keys are another account's.
        report = replace(report, exchange={"error": "a run --sim daemon's exchange is inside it"})
    elif exchange and settings is not None:
        report = await _with_exchange(settings, report, clock)
    verdict, _ = assess(report)
    if note is not None:
        return report, StatusExit.UNKNOWN, note
    return report, verdict, None


def entry_files(entry: DaemonEntry) -> dict[str, str]:
    return {
        "database": entry.database,
        "log": entry.log_file,
        "lock": entry.lock_file,
        "data_dir": entry.data_dir,
    }
