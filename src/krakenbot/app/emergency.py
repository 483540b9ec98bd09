"""`krakenbot stop`: ask the daemon to stop, cancel every order directly, terminate if hung.

Owns: `stop_daemon` and its `StopResult`. The daemon is the one app/discover.py found (its
registry entry names the health URL, the stop-token file and the process identity; a PID
now used by another process is never signalled). Order of work: ask (POST /stop with the
token — with `--cancel-all` the daemon first runs its emergency stop: trading HALTED,
persisted, and a cancel for each of its orders through the risk gate; SIGTERM on POSIX when
the request is not answered or the daemon is still starting) → with `--cancel-all`, cancel
every open order of krakenbot (by its cl_ord_id prefix) through REST with the status key (or
the main key), so a hung daemon's orders go immediately; orders that are not krakenbot's are
left alone and named → wait for the process (bounded) → with `--cancel-all`, terminate a
daemon still there → cancel again and verify that no order of krakenbot is open → with
`--flatten`, sell the position with an IOC limit order through the risk gate's reducing path.
A `run --sim` daemon's exchange is the simulator inside its own process: once the daemon is
gone no order can remain there, and there is no real account to cancel or sell on.
Exit (app.exitcodes.StopExit): 0 only when the daemon is gone and no open order of krakenbot
remains (foreign orders do not count: they are not ours to cancel; nor, without
`--cancel-all`, the protective stops the ledger names: they cover the positions a stop keeps).
Imports: anything (composition root).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

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
from krakenbot.app.registry import DaemonEntry, is_running, read_entry
from krakenbot.app.runtime_files import TOKEN_HEADER, read_token_file
from krakenbot.clock import Clock, SystemClock
from krakenbot.config import Settings
from krakenbot.orders.protection import PROTECT_TAG
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


async def wait_listening(registry: Path, target: DaemonEntry, timeout_s: float) -> DaemonEntry:
    """The daemon's entry once its health server listens (bounded wait; as it was if not)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout_s
    while loop.time() < give_up and is_running(target):
        current = read_entry(registry, target)
        if current is not None and current.health_url is not None:
            return current
        await asyncio.sleep(_POLL_S)
    return target


async def _ask(
    target: DaemonEntry,
    result: StopResult,
    *,
    cancel_all: bool,
    can_signal: bool,
    registry: Path | None,
    wait_s: float,
) -> None:
    if target.health_url is None and not can_signal and registry is not None:
        # No signal can stop a daemon still starting up (Windows): wait for it to serve
        # its stop request, then ask.
        result.say(f"the daemon (PID {target.pid}) is starting: waiting for its stop request")
        target = await wait_listening(registry, target, wait_s)
    token = read_token_file(Path(target.token_file))
    url = target.health_url
    if url is None:
        result.say(f"the daemon (PID {target.pid}) is still starting: no stop request served yet")
    elif token is None:
        result.say(f"cannot read the daemon's stop token {target.token_file}")
    elif not await _answers(url):
        result.say(f"the daemon (PID {target.pid}) does not answer on {url}")
    elif await _post_stop(url, token, cancel_all=cancel_all):
        what = "emergency stop (HALTED, cancel all)" if cancel_all else "stop"
        result.say(f"asked the daemon (PID {target.pid}) to {what} via its stop request")
        return
    else:
        result.say(f"the daemon (PID {target.pid}) did not answer its stop request")
    if can_signal and is_running(target):
        # A signal also stops a daemon still starting up (it cancels start-up, exit 130).
        with contextlib.suppress(ProcessLookupError):
            os.kill(target.pid, signal.SIGTERM)
            result.say(f"sent SIGTERM to PID {target.pid}")


async def _wait_gone(target: DaemonEntry, timeout_s: float) -> bool:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout_s
    while loop.time() < give_up:
        if not is_running(target):
            return True
        await asyncio.sleep(_POLL_S)
    return not is_running(target)


def _terminate(target: DaemonEntry) -> None:
    if is_running(target):  # never a process that merely reuses the PID
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(target.pid).kill()


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


async def _ledger_open(settings: Settings, clock: Clock) -> list[tuple[str, str]] | None:
    """(cl_ord_id, tag) of every order the ledger holds open."""
    if not settings.database_path.is_file():
        return []
    try:
        db = await Database.open(settings.database_path)
    except Exception:
        return None
    try:
        return [(o.cl_ord_id, o.tag) for o in await LedgerRepository(db, clock).open_orders()]
    except Exception:
        return None
    finally:
        await db.close()


async def _exchange_open(settings: Settings, clock: Clock) -> list[str] | None:
    key = operator_key(settings)
    if key is None:
        return None
    try:
        async with operator_client(settings, key, clock=clock) as client:
            return await open_orders_of_ours(client)
    except Exception:
        return None


async def _remaining(settings: Settings, clock: Clock, result: StopResult) -> int | None:
    """Open orders of krakenbot after a stop without --cancel-all, but the protective stops
    the ledger names: positions are kept, and so is their cover (README: Graceful stop)."""
    ledger = await _ledger_open(settings, clock)
    protective = {c for c, tag in ledger or () if tag == PROTECT_TAG}
    exchange = await _exchange_open(settings, clock)
    if exchange is None and ledger is None:
        return None
    ours = exchange if exchange is not None else [c for c, _ in ledger or ()]
    kept = [c for c in ours if c in protective]
    if kept:
        result.say(
            f"{len(kept)} protective stop(s) of krakenbot stay at Kraken, covering its "
            "position(s) (kept on purpose; `stop --cancel-all` removes them)"
        )
    return len(ours) - len(kept)


async def stop_daemon(
    settings: Settings | None,
    target: DaemonEntry | None,
    *,
    cancel_all: bool,
    flatten: bool,
    timeout_s: float,
    clock: Clock | None = None,
    registry: Path | None = None,
    can_signal: bool = sys.platform != "win32",
) -> StopResult:
    """Stop `target` (None: no daemon runs) and, with `cancel_all`, every order; `settings`
    (None when unreadable) give the keys and the ledger for the direct cancel and the check.
    `registry`: where the target's entry is (to see a starting daemon begin to listen)."""
    clock = clock or SystemClock()
    result = StopResult()
    sim = target is not None and target.mode == "sim"
    if target is None:
        result.say("no krakenbot daemon is running")
    else:
        await _ask(
            target,
            result,
            cancel_all=cancel_all,
            can_signal=can_signal,
            registry=registry,
            wait_s=timeout_s,
        )
    direct = cancel_all and not sim and settings is not None
    outcome: CancelAllOutcome | None = None
    if settings is not None and direct:
        outcome = await _cancel_all(settings, clock, result)
    elif cancel_all and sim:
        result.say("sim mode: the daemon cancels its simulated orders; its simulator ends with it")
    if target is not None:
        gone = await _finish(target, result, cancel_all=cancel_all, timeout_s=timeout_s)
        result.daemon_gone = gone
    has_key = outcome is not None and outcome.error != "no key"
    if settings is not None and has_key and (outcome is None or outcome.remaining != 0 or target):
        # Again once the daemon is gone: nothing can place a new order after this one.
        outcome = await _cancel_all(settings, clock, result)
    if flatten and sim:
        result.say("sim mode: --flatten has nothing to sell (the simulated exchange is gone)")
    elif flatten and result.daemon_gone and settings is not None:
        result.lines.extend(await flatten_positions(settings, clock))
    if sim and result.daemon_gone:
        result.open_orders = 0  # the embedded simulator, its orders included, is gone
    elif outcome is not None and outcome.error != "no key":
        result.open_orders = outcome.remaining
    elif settings is not None:
        result.open_orders = await _remaining(settings, clock, result)
    return _verdict(result)


async def _finish(
    target: DaemonEntry, result: StopResult, *, cancel_all: bool, timeout_s: float
) -> bool:
    """Wait for the daemon to exit; with `cancel_all`, terminate one that does not."""
    pid = target.pid
    if await _wait_gone(target, timeout_s):
        result.say(f"the daemon (PID {pid}) has exited")
        return True
    if not cancel_all:
        result.say(
            f"the daemon (PID {pid}) is still running after {timeout_s:g} s "
            "(use --cancel-all to cancel orders directly and terminate it)"
        )
        return False
    result.say(f"the daemon (PID {pid}) did not exit within {timeout_s:g} s: terminating")
    _terminate(target)
    gone = await _wait_gone(target, 10.0)
    result.say("terminated" if gone else f"PID {pid} could not be terminated")
    return gone


def _verdict(result: StopResult) -> StopResult:
    if not result.daemon_gone:
        result.exit_status = StopExit.STILL_RUNNING
    elif result.open_orders != 0:
        result.exit_status = StopExit.ORDERS_REMAIN
        shown = "unknown" if result.open_orders is None else str(result.open_orders)
        result.say(f"open orders remaining: {shown}")
    else:
        result.say("no open order of krakenbot remains")
    return result
