"""Helpers for the end-to-end tests: real `python -m krakenbot` processes against the sim.

The simulator runs in the test's own event loop (so a test can inject faults, move the
market and read the exchange's own view); the daemon, `status` and `stop` are separate
processes started with asyncio's subprocess API, configured only through the environment.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from tests.eventually import eventually

from krakenbot.app.registry import DaemonEntry, registry_dir, running_daemons
from krakenbot.app.runtime_files import TOKEN_HEADER, read_token_file
from krakenbot.sim import Sim

HERE = Path(__file__).resolve().parent
CLOSED = ("closed", "canceled", "expired")
# A ledger failure's safe stop, from the first failing write to the daemon's exit, takes the
# grace plus the stop's own work (cancel, confirm with the exchange, exit): ~0.4 s measured;
# this leaves room for a loaded 2-core CI machine.
LEDGER_STOP_MARGIN_S = 8.0


@dataclass
class Daemon:
    proc: asyncio.subprocess.Process
    env: dict[str, str]
    home: Path
    stderr: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def wait(self, timeout_s: float) -> int:
        async with asyncio.timeout(timeout_s):
            return await self.proc.wait()

    def kill9(self) -> None:
        if self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGKILL)


def daemon_env(home: Path, sim: Sim, **extra: str) -> dict[str, str]:
    data = home / "data"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KRAKEN_", "TRADING_", "MAX_", "DEAD_MAN", "HEALTH_", "E2E_"))
    }
    env.update(
        {
            "TRADING_MODE": "live",
            "KRAKEN_API_KEY": sim.api_key,
            "KRAKEN_API_SECRET": sim.api_secret,
            "KRAKEN_REST_URL": sim.rest_url,
            "KRAKEN_WS_URL": sim.ws_url,
            "KRAKEN_WS_AUTH_URL": sim.ws_auth_url,
            "DATA_DIR": str(data),
            "DATABASE_PATH": str(data / "trading.db"),
            "LOG_FILE": str(data / "krakenbot.log"),
            "LOCK_FILE": str(data / ".trading_lock"),
            "HEALTH_PORT": "0",
            "LOG_CONSOLE": "false",
            "ALLOWED_PAIRS": "XLM/USD",
            "KRAKEN_API_TIER": "pro",  # the sim runs at tier pro: restarts are quick
            "STRATEGY": "e2e_strategy:Ladder",
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
            "DEAD_MAN_SWITCH_TIMEOUT_S": "60",
            "DEAD_MAN_SWITCH_REFRESH_S": "20",
        }
    )
    env.update(extra)
    return env


async def start_daemon(home: Path, env: dict[str, str], *args: str) -> Daemon:
    """`python -m krakenbot run --live` started in `home`."""
    return await _spawn_run(home, env, "--live", *args)


async def _spawn_run(home: Path, env: dict[str, str], *args: str) -> Daemon:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "krakenbot",
        "run",
        *args,
        cwd=home,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    daemon = Daemon(proc, env, home)
    asyncio.get_running_loop().create_task(_drain(proc, daemon.stderr))
    return daemon


def sim_daemon_env(**extra: str) -> dict[str, str]:
    """`run --sim` configured by nothing but defaults: no DATA_DIR, DATABASE_PATH, LOCK_FILE
    (relative to the folder it starts in), no keys, no URLs. KRAKENBOT_STATE_DIR is the
    test's own (tests/conftest.py)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("KRAKEN_", "TRADING_", "MAX_", "DEAD_MAN", "HEALTH_", "E2E_", "DATA_DIR")
        )
        and k not in ("DATABASE_PATH", "LOCK_FILE", "LOG_FILE", "STRATEGY", "ALLOWED_PAIRS")
    }
    env.update({"LOG_CONSOLE": "false", **extra})
    return env


async def start_sim_daemon(home: Path, env: dict[str, str], *args: str) -> Daemon:
    """`python -m krakenbot run --sim` started in `home` (which must exist)."""
    return await _spawn_run(home, env, "--sim", *args)


def gone(pid: int) -> bool:
    """The process has exited (a zombie not yet reaped by its parent counts as gone)."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


async def _drain(proc: asyncio.subprocess.Process, sink: list[str]) -> None:
    assert proc.stderr is not None
    while line := await proc.stderr.readline():
        sink.append(line.decode("utf-8", "replace"))


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        doc = json.loads(self.out)
        assert isinstance(doc, dict)
        return doc


async def cli(home: Path, env: dict[str, str], *args: str, timeout_s: float = 60) -> Result:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "krakenbot",
        *args,
        cwd=home,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await proc.communicate()
    except BaseException:  # timed out or cancelled: the command never outlives its caller
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


async def healthy(home: Path, env: dict[str, str]) -> bool:
    return (await cli(home, env, "status", "--json")).code == 0


def mid(sim: Sim, symbol: str = "XLM/USD") -> Decimal:
    """The simulated market's mid price now."""
    return Decimal(sim.state.exchange.markets[symbol].mid)


def open_orders(sim: Sim) -> list[dict[str, object]]:
    return [o for o in sim.control.orders() if o["status"] not in CLOSED]


def exit_resting(sim: Sim) -> bool:
    """A strategy's limit sell rests (not the engine's protective stop-loss, which the
    engine cancels first: Kraken holds the position's base for one sell at a time)."""
    return any(o["side"] == "sell" and o["type"] == "limit" for o in open_orders(sim))


def ledger(home: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the daemon's ledger (read-only; WAL lets us read while it writes)."""
    db = home / "data" / "trading.db"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return list(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def assert_ledger_matches_exchange(home: Path, sim: Sim) -> None:
    """Every exchange order with a cl_ord_id and every fill is in the ledger exactly once."""
    ours = [o for o in sim.control.orders() if o["cl_ord_id"]]
    rows = ledger(home, "SELECT order_id, txid, status FROM orders")
    by_id = {r[0]: r for r in rows}
    assert len(by_id) == len(rows)
    for order in ours:
        assert order["cl_ord_id"] in by_id, f"exchange order {order} missing from the ledger"
        assert by_id[str(order["cl_ord_id"])][1] == order["txid"]
    trades = sim.control.trades()
    fills = ledger(home, "SELECT trade_id FROM fills")
    assert len(fills) == len({f[0] for f in fills}), "a fill was recorded twice"
    assert {str(t["trade_id"]) for t in trades} == {f[0] for f in fills}


def ledger_matches_exchange(home: Path, sim: Sim) -> bool:
    """`assert_ledger_matches_exchange` as a predicate, for a running daemon (an order it has
    just sent is acknowledged in the ledger a moment after the exchange lists it)."""
    try:
        assert_ledger_matches_exchange(home, sim)
    except (AssertionError, sqlite3.Error):
        return False
    return True


def two_entries_env(home: Path, sim: Sim, grace_s: float) -> dict[str, str]:
    """Two entries rest (0.6 % and 1.2 % below the bid); LEDGER_FAILURE_GRACE_S=grace_s."""
    return daemon_env(
        home,
        sim,
        E2E_OFFSET_PCT="0.6",
        E2E_MAX_WORKING="2",  # two entries rest, 0.6 % and 1.2 % below the bid
        E2E_TRADE_USD="4",
        MAX_TOTAL_EXPOSURE="20",
        LEDGER_FAILURE_GRACE_S=f"{grace_s:g}",
        DEAD_MAN_SWITCH_TIMEOUT_S="600",  # so only the safe stop can cancel during the test
    )


async def start_with_two_resting_entries(home: Path, sim: Sim, env: dict[str, str]) -> Daemon:
    """A daemon with two entries resting on the exchange, both in the ledger."""
    daemon = await start_daemon(home, env)
    try:
        await eventually(lambda: len(open_orders(sim)) == 2, 30, "two resting entries")
        await eventually(
            lambda: ledger_matches_exchange(home, sim), 10, "the ledger matches the exchange"
        )
    except BaseException:
        daemon.kill9()
        raise
    return daemon


async def restart_then_stop_cleanly(
    home: Path, sim: Sim, env: dict[str, str], check: Callable[[], None] = lambda: None
) -> None:
    """Restart with a writable ledger: healthy, the ledger matches the exchange (and `check`
    holds), then a clean stop that leaves it matching."""
    daemon = await start_daemon(home, env)
    try:
        await eventually(lambda: healthy(home, env), 40, "healthy after the restart")
        await eventually(
            lambda: ledger_matches_exchange(home, sim), 10, "the ledger matches the exchange"
        )
        check()
        stop = await cli(home, env, "stop", "--timeout", "30")
        assert stop.code == 0, stop.out
        assert await daemon.wait(20) == 0
        assert_ledger_matches_exchange(home, sim)
    finally:
        daemon.kill9()


def listening(state_dir: Path) -> DaemonEntry | None:
    """The registered daemon once its health server listens (its stop request is served)."""
    found = running_daemons(registry_dir(state_dir))
    return found[0] if found and found[0].health_url else None


async def post_stop(entry: DaemonEntry) -> None:
    """`POST /stop` with the daemon's token (how `stop` reaches it without a signal)."""
    token = read_token_file(Path(entry.token_file))
    assert token is not None
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{entry.health_url}/stop", headers={TOKEN_HEADER: token}) as response,
    ):
        assert response.status == 202


def our_stops(sim: Sim) -> list[dict[str, object]]:
    """Our stop-loss orders open at the simulator (the engine's protective stops)."""
    return [o for o in open_orders(sim) if o["cl_ord_id"] and o["type"] == "stop-loss"]


async def long_with_resting_exit(sim: Sim, home: Path, **extra: str) -> Daemon:
    """A daemon (Ladder strategy, `extra` settings) holding an XLM/USD position whose
    strategy exit (a limit sell 0.5 % above the ask) rests at the simulator in place of the
    protective stop. The feed stays paused: the market cannot reach the exit meanwhile."""
    env = daemon_env(home, sim, E2E_OFFSET_PCT="0.5", **extra)
    daemon = await start_daemon(home, env)

    def buying() -> bool:
        return any(o["side"] == "buy" for o in open_orders(sim))

    def exit_alone() -> bool:
        return exit_resting(sim) and not our_stops(sim)

    try:
        await eventually(buying, 30, "an entry resting at the exchange")
        sim.control.pause_feed()
        sim.control.set_mid("XLM/USD", mid(sim) * Decimal("0.99"))  # trades through the entry
        await eventually(lambda: bool(sim.control.trades()), 10, "the entry fills")
        await eventually(exit_alone, 20, "the strategy's exit rests in place of the stop")
        await eventually(lambda: ledger_matches_exchange(home, sim), 10, "ledger up to date")
    except BaseException:
        daemon.kill9()
        raise
    return daemon
