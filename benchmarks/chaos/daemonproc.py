"""A live-mode daemon (`python -m krakenbot run --live`) against an external simulator.

Owns: the daemon's environment (the simulator's throwaway key, loopback URLs, its own
DATA_DIR and per-user state directory, the end-to-end tests' quick-trading strategy
tests/e2e/e2e_strategy.py:Ladder, which goes through the real risk gate like any strategy),
starting and killing it, asking its `/health` (via `DATA_DIR/daemon.json`), a graceful stop
(SIGTERM, as the README documents), and reading its ledger read-only into the audit's
records. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.chaos.audit import (
    AuditReport,
    Denial,
    LedgerFill,
    LedgerOrder,
    Lockout,
    audit,
    exit_lockouts,
)
from benchmarks.chaos.simproc import SimProcess, spawn

ROOT = Path(__file__).resolve().parents[2]
STRATEGY_DIR = ROOT / "tests" / "e2e"
_DROP = (
    "KRAKEN_",
    "TRADING_",
    "MAX_",
    "DEAD_MAN",
    "HEALTH_",
    "E2E_",
    "CIRCUIT_",
    "LEDGER_",
    "ORDER_",
)


def daemon_env(home: Path, sim: SimProcess, **extra: str) -> dict[str, str]:
    data = home / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env.update(
        {
            "TRADING_MODE": "live",
            "KRAKEN_API_KEY": sim.api_key,
            "KRAKEN_API_SECRET": sim.api_secret,
            "KRAKEN_REST_URL": sim.rest_url,
            "KRAKEN_WS_URL": sim.ws_url,
            "KRAKEN_WS_AUTH_URL": sim.ws_auth_url,
            "KRAKEN_API_TIER": "pro",
            "KRAKENBOT_STATE_DIR": str(home / "state"),
            "DATA_DIR": str(data),
            "DATABASE_PATH": str(data / "trading.db"),
            "LOG_FILE": str(data / "krakenbot.log"),
            "LOCK_FILE": str(data / ".trading_lock"),
            "HEALTH_PORT": "0",
            "LOG_CONSOLE": "false",
            "ALLOWED_PAIRS": "XLM/USD",
            "STRATEGY": "e2e_strategy:Ladder",
            "PYTHONPATH": os.pathsep.join([str(STRATEGY_DIR), env.get("PYTHONPATH", "")]),
            "DEAD_MAN_SWITCH_TIMEOUT_S": "60",
            "DEAD_MAN_SWITCH_REFRESH_S": "20",
        }
    )
    env.update(extra)
    return env


@dataclass
class Daemon:
    proc: asyncio.subprocess.Process
    home: Path
    stderr: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    def kill9(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)

    async def wait(self, timeout_s: float) -> int:
        async with asyncio.timeout(timeout_s):
            return await self.proc.wait()

    async def stop(self, timeout_s: float = 60) -> int:
        """The graceful stop: SIGTERM, then wait (killed if it overruns)."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
        try:
            return await self.wait(timeout_s)
        except TimeoutError:
            self.kill9()
            await self.proc.wait()
            return -signal.SIGKILL

    def tail(self, n: int = 15) -> str:
        return "".join(self.stderr[-n:])


async def start_daemon(home: Path, env: dict[str, str], *args: str) -> Daemon:
    proc = await spawn(
        sys.executable,
        "-m",
        "krakenbot",
        "run",
        "--live",
        *args,
        cwd=home,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    daemon = Daemon(proc, home)
    asyncio.get_running_loop().create_task(_drain(proc, daemon.stderr))
    return daemon


async def _drain(proc: asyncio.subprocess.Process, sink: list[str]) -> None:
    assert proc.stderr is not None
    while line := await proc.stderr.readline():
        sink.append(line.decode("utf-8", "replace"))
        del sink[:-200]


async def health(
    data_dir: Path, session: aiohttp.ClientSession, pid: int | None = None
) -> dict[str, Any] | None:
    """The daemon's /health JSON (None when it does not answer); `pid`: only that process's."""
    try:
        info = json.loads((data_dir / "daemon.json").read_text(encoding="utf-8"))
        if pid is not None and int(info["pid"]) != pid:
            return None
        async with session.get(str(info["health_url"]) + "/health") as resp:
            doc = await resp.json(content_type=None)
    except (OSError, ValueError, KeyError, aiohttp.ClientError, TimeoutError):
        return None
    return doc if isinstance(doc, dict) else None


async def is_healthy(daemon: Daemon, http: aiohttp.ClientSession) -> bool:
    """This very process answers /health with the verdict `healthy`."""
    doc = await health(daemon.home / "data", http, daemon.proc.pid)
    return doc is not None and doc.get("status") == "healthy"


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout_s: float, *, period_s: float = 0.25
) -> bool:
    """Poll `check` until true; False after `timeout_s` (the caller reports what failed)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout_s
    while True:
        if await check():
            return True
        if loop.time() > give_up:
            return False
        await asyncio.sleep(period_s)


# ---------------------------------------------------------------- the ledger, read-only


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return list(conn.execute(sql).fetchall())
    finally:
        conn.close()


def ledger_orders(db: Path) -> list[LedgerOrder]:
    return [
        LedgerOrder(
            order_id=str(r[0]),
            txid=r[1],
            side=str(r[2]),
            status=str(r[3]),
            filled_volume=Decimal(r[4]),
            reduces_position=bool(r[5]),
            created_ns=int(r[6]),
            tag=str(r[7]),
        )
        for r in _rows(
            db,
            "SELECT order_id, txid, type, status, filled_volume, reduces_position, created_ns, "
            "tag FROM orders",
        )
    ]


def ledger_fills(db: Path) -> list[LedgerFill]:
    return [
        LedgerFill(trade_id=str(r[0]), txid=str(r[1]), side=str(r[2]), volume=Decimal(r[3]))
        for r in _rows(db, "SELECT trade_id, txid, side, volume FROM fills")
    ]


def ledger_denials(db: Path) -> list[Denial]:
    out: list[Denial] = []
    for ts_ns, payload in _rows(db, "SELECT ts_ns, payload FROM events WHERE kind='risk_denied'"):
        try:
            doc = json.loads(payload)
        except ValueError:
            continue
        side = str(doc.get("side", ""))
        # The strategies are long-only: a sell is an exit (the Ladder tags it "exit").
        reduces = side == "sell" or doc.get("tag") == "exit"
        out.append(Denial(int(ts_ns), side, str(doc.get("rule", "")), reduces))
    return out


def ledger_starts(db: Path) -> list[int]:
    return [int(r[0]) for r in _rows(db, "SELECT ts_ns FROM events WHERE kind='daemon_started'")]


def ledger_event_kinds(db: Path) -> list[str]:
    return [str(r[0]) for r in _rows(db, "SELECT kind FROM events ORDER BY id")]


async def ledger_audit(db: Path, sim: SimProcess, *, stopped: bool) -> AuditReport:
    """The ledger at `db` against the simulator's own view, now."""
    ex_orders, ex_trades = await sim.orders(), await sim.trades()
    return audit(
        ledger_orders(db),
        ledger_fills(db),
        ex_orders,
        ex_trades,
        stopped=stopped,
        dust=await sim.ordermin(),
    )


async def caught_up(db: Path, sim: SimProcess) -> bool:
    """A running daemon's ledger holds every order and fill the exchange has (so far)."""
    try:
        report = await ledger_audit(db, sim, stopped=False)
    except sqlite3.Error:
        return False
    return not (report.lost or report.unknown or report.phantom or report.mismatched)


async def resolved(db: Path, sim: SimProcess) -> bool:
    """No order of unknown fate is left in the ledger (see audit.py, `unresolved`)."""
    try:
        return not (await ledger_audit(db, sim, stopped=False)).unresolved
    except sqlite3.Error:
        return False


def lockouts(db: Path, *, cooldown_s: float, slack_s: float) -> tuple[list[Lockout], float]:
    """Stretches of refused exits longer than the cooldown (and the longest, in seconds)."""
    exits = [o.created_ns for o in ledger_orders(db) if o.side == "sell"]
    return exit_lockouts(
        ledger_denials(db), exits, ledger_starts(db), cooldown_s=cooldown_s, slack_s=slack_s
    )
