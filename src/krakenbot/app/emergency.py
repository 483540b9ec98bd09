"""`krakenbot stop`: ask the daemon to stop, cancel every order directly, terminate if hung.

Owns: `stop_daemon` and its `StopResult`. Order of work: ask (POST /stop with the token from
the data directory — with `--cancel-all` the daemon first runs its emergency stop: trading
HALTED, persisted, and a cancel for each of its orders through the risk gate; SIGTERM on POSIX
when the request is not answered) → with `--cancel-all`, cancel every open order of krakenbot
(by its cl_ord_id prefix) through REST with the status key (or the main key), so a hung
daemon's orders go immediately; orders that are not krakenbot's are left alone and named →
wait for the process (bounded) → with `--cancel-all`, terminate a daemon still there →
cancel again and verify that no order of krakenbot is open → with `--flatten`,
sell the position with an IOC limit order through the risk gate's reducing path.
Exit (app.exitcodes.StopExit): 0 only when the daemon is gone and no open order of krakenbot
remains (foreign orders do not count: they are not ours to cancel).
Imports: anything (composition root).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field

import aiohttp
import psutil

from krakenbot.app.exchange_view import (
    CancelAllOutcome,
    cancel_all_verified,
    open_orders_of_ours,
    operator_client,
    operator_key,
)
from krakenbot.app.exitcodes import StopExit
from krakenbot.app.flatten import flatten_positions
from krakenbot.app.runtime import TOKEN_HEADER, read_runtime, read_token
from krakenbot.app.status_check import running_pid
from krakenbot.clock import Clock, SystemClock
from krakenbot.config import Settings
from krakenbot.store import Database, LedgerRepository

_POLL_S = 0.1
_ASK_TIMEOUT_S = 3.0


@dataclass(slots=True)
class StopResult:
    exit_status: StopExit = StopExit.OK
    lines: list[str] = field(default_factory=list)
    daemon_gone: bool = True
    open_orders: int | None = None

    def say(self, line: str) -> None:
        self.lines.append(line)


async def _post_stop(url: str, token: str, *, cancel_all: bool) -> bool:
    try:
        async with (
            asyncio.timeout(_ASK_TIMEOUT_S + (10.0 if cancel_all else 0.0)),
            aiohttp.ClientSession() as session,
            session.post(
                f"{url}/stop",
                headers={TOKEN_HEADER: token},
                json={"reason": "krakenbot stop", "cancel_all": cancel_all},
            ) as response,
        ):
            return response.status == 202
    except (TimeoutError, aiohttp.ClientError):
        return False


async def _answers(url: str) -> bool:
    """Whether the daemon's health server answers at all (a frozen daemon does not)."""
    try:
        async with (
            asyncio.timeout(_ASK_TIMEOUT_S),
            aiohttp.ClientSession() as session,
            session.get(f"{url}/health") as response,
        ):
            return response.status in (200, 503)
    except (TimeoutError, aiohttp.ClientError):
        return False


async def _ask(settings: Settings, pid: int, result: StopResult, *, cancel_all: bool) -> None:
    runtime = read_runtime(settings.data_dir)
    token = read_token(settings.data_dir)
    usable = runtime is not None and runtime.pid == pid and token is not None
    if usable and runtime is not None and not await _answers(runtime.health_url):
        result.say(f"the daemon (PID {pid}) does not answer on {runtime.health_url}")
        usable = False
    if usable and runtime is not None and token is not None:
        if await _post_stop(runtime.health_url, token, cancel_all=cancel_all):
            what = "emergency stop (HALTED, cancel all)" if cancel_all else "stop"
            result.say(f"asked the daemon (PID {pid}) to {what} via its stop request")
            return
        result.say(f"the daemon (PID {pid}) did not answer its stop request")
    if sys.platform != "win32":
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            result.say(f"sent SIGTERM to PID {pid}")


async def _wait_gone(pid: int, timeout_s: float) -> bool:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout_s
    while loop.time() < give_up:
        if not _alive(pid):
            return True
        await asyncio.sleep(_POLL_S)
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _terminate(pid: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).kill()


async def _cancel_all(settings: Settings, clock: Clock, result: StopResult) -> CancelAllOutcome:
    key = operator_key(settings)
    if key is None:
        result.say("no API key configured: nothing to cancel on the exchange (paper mode)")
        return CancelAllOutcome(0, None, "no key")
    async with operator_client(settings, key, clock=clock, lock_timeout_s=3.0) as client:
        outcome = await cancel_all_verified(client)
    if outcome.error:
        result.say(f"cancel-all with the {key.which} failed: {outcome.error}")
    else:
        result.say(
            f"cancel-all with the {key.which}: {outcome.cancelled} cancelled, "
            f"{outcome.remaining} open order(s) of krakenbot remain"
        )
    for line in outcome.foreign:
        said = f"left alone (not krakenbot's): {line}"
        if said not in result.lines:
            result.say(said)
    return outcome


async def _ledger_open(settings: Settings, clock: Clock) -> int | None:
    if not settings.database_path.is_file():
        return 0
    try:
        db = await Database.open(settings.database_path)
    except Exception:
        return None
    try:
        return len(await LedgerRepository(db, clock).open_orders())
    except Exception:
        return None
    finally:
        await db.close()


async def _exchange_open(settings: Settings, clock: Clock) -> int | None:
    key = operator_key(settings)
    if key is None:
        return None
    try:
        async with operator_client(settings, key, clock=clock) as client:
            return await open_orders_of_ours(client)
    except Exception:
        return None


async def stop_daemon(
    settings: Settings,
    *,
    cancel_all: bool,
    flatten: bool,
    timeout_s: float,
    clock: Clock | None = None,
) -> StopResult:
    clock = clock or SystemClock()
    result = StopResult()
    pid = running_pid(settings.lock_file)
    if pid is None:
        result.say("no krakenbot daemon is running")
    else:
        await _ask(settings, pid, result, cancel_all=cancel_all)
    outcome: CancelAllOutcome | None = None
    if cancel_all:
        outcome = await _cancel_all(settings, clock, result)
    if pid is not None:
        gone = await _wait_gone(pid, timeout_s)
        if gone:
            result.say(f"the daemon (PID {pid}) has exited")
        elif cancel_all:
            result.say(f"the daemon (PID {pid}) did not exit within {timeout_s:g} s: terminating")
            _terminate(pid)
            gone = await _wait_gone(pid, 10.0)
            result.say("terminated" if gone else f"PID {pid} could not be terminated")
        else:
            result.say(
                f"the daemon (PID {pid}) is still running after {timeout_s:g} s "
                "(use --cancel-all to cancel orders directly and terminate it)"
            )
        result.daemon_gone = gone
    has_key = outcome is not None and outcome.error != "no key"
    if cancel_all and has_key and (outcome is None or outcome.remaining != 0 or pid is not None):
        # Again once the daemon is gone: nothing can place a new order after this one.
        outcome = await _cancel_all(settings, clock, result)
    if flatten and result.daemon_gone:
        result.lines.extend(await flatten_positions(settings, clock))
    if outcome is not None and outcome.error != "no key":
        result.open_orders = outcome.remaining
    else:
        exchange = await _exchange_open(settings, clock)
        result.open_orders = (
            exchange if exchange is not None else await _ledger_open(settings, clock)
        )
    if not result.daemon_gone:
        result.exit_status = StopExit.STILL_RUNNING
    elif result.open_orders != 0:
        result.exit_status = StopExit.ORDERS_REMAIN
        shown = "unknown" if result.open_orders is None else str(result.open_orders)
        result.say(f"open orders remaining: {shown}")
    else:
        result.say("no open order of krakenbot remains")
    return result
