"""`krakenbot status` / scripts/simple_status.py: is the daemon running, and is it healthy?

Owns: `collect_status` — the lock record + PID say whether a daemon runs; a running one is
asked on `GET /health` (URL from daemon.json); a stopped one is described from the ledger
(the last status snapshot the daemon wrote, open orders, last failure; positions and PnL from
the ledger's fills through the engine's own portfolio, valued at the daemon's last marks). With
`exchange=True` Kraken is asked for balances and open orders (status key preferred) and the
differences from the ledger are listed. Verdicts: app.exitcodes.StatusExit.
Imports: anything (composition root).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from krakenbot.app.daemon import DMS_STATE_KEY, STATUS_STATE_KEY
from krakenbot.app.exchange_view import compare, exchange_snapshot, operator_client, operator_key
from krakenbot.app.exitcodes import StatusExit
from krakenbot.app.runtime import RuntimeInfo, read_runtime
from krakenbot.app.status_model import StatusReport, assess
from krakenbot.clock import Clock, SystemClock
from krakenbot.config import Settings
from krakenbot.domain.portfolio import utc_day
from krakenbot.errors import KrakenbotError
from krakenbot.lock import LockRecord, is_alive
from krakenbot.store import Database, LedgerRepository

NS = 1_000_000_000


def running_pid(lock_file: Path) -> int | None:
    """The PID of the live process named in the lock file, if any."""
    try:
        record = LockRecord.parse(lock_file.read_text(encoding="utf-8"))
    except OSError:
        return None
    if record is None or not is_alive(record):
        return None
    return record.pid


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


def data_files(settings: Settings) -> dict[str, str]:
    return {
        "database": str(settings.database_path),
        "log": str(settings.log_file),
        "lock": str(settings.lock_file),
        "data_dir": str(settings.data_dir),
    }


async def ledger_report(settings: Settings, clock: Clock) -> StatusReport:
    """What the ledger says while the daemon is down (raises sqlite3.Error/OSError)."""
    base = StatusReport(running=False, source="database", data_files=data_files(settings))
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
                report = replace(
                    last,
                    running=False,
                    source="database",
                    uptime_s=None,
                    market_data_age_s=None,
                    stopping=False,
                    healthy=None,
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
        return replace(
            report.with_pnl(pnl),
            open_orders=len(open_orders),
            last_error=last_error,
            trading_state=trading_state,
            dms_trigger_time=dms or report.dms_trigger_time,
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
    exchange_open = {str(o["txid"]): str(o["pair"]) for o in snap["open_orders"]}
    balances = {k: Decimal(v) for k, v in snap["balances"].items()}
    snap["key"] = key.which
    snap["differences"] = compare(ledger_open, exchange_open, ledger_position, balances)
    return replace(report, exchange=snap)


async def collect_status(
    settings: Settings,
    *,
    exchange: bool = False,
    timeout_s: float = 5.0,
    clock: Clock | None = None,
) -> tuple[StatusReport, StatusExit, str | None]:
    """(report, verdict, why-cannot-tell). Never raises for an unreachable daemon or ledger."""
    clock = clock or SystemClock()
    pid = running_pid(settings.lock_file)
    runtime: RuntimeInfo | None = read_runtime(settings.data_dir)
    note: str | None = None
    if pid is not None:
        if runtime is None or runtime.pid != pid:
            report = StatusReport(running=True, source="lock", pid=pid)
            return report, StatusExit.UNKNOWN, "the daemon is starting or its daemon.json is gone"
        try:
            doc = await fetch_health(runtime.health_url, timeout_s)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            report = StatusReport(
                running=True,
                source="lock",
                pid=pid,
                mode=runtime.mode,
                started_ns=runtime.started_ns,
                data_files=runtime.data_files,
            )
            why = f"PID {pid} holds the lock but /health did not answer ({type(exc).__name__})"
            return report, StatusExit.UNKNOWN, why
        report = StatusReport.from_json(doc)
    else:
        try:
            report = await ledger_report(settings, clock)
        except (sqlite3.Error, OSError, ValueError, KrakenbotError) as exc:
            report = StatusReport(running=False, source="database", data_files=data_files(settings))
            note = f"cannot read the database: {exc}"
    if exchange:
        report = await _with_exchange(settings, report, clock)
    verdict, _ = assess(report)
    if note is not None:
        return report, StatusExit.UNKNOWN, note
    return report, verdict, None
