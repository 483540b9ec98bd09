"""Ledger faults: locked, full, read-only database, read-only `-shm` — each a safe stop.

For each fault: a live daemon with two resting entries; the fault strikes; the market then
fills the nearer entry, a fill the daemon cannot record. The daemon must make its safe stop —
exit status 1, not before LEDGER_FAILURE_GRACE_S, no order left open at the exchange but the
one protective stop-loss sell for the fill it could not record (journaled before it is sent,
no larger than the fill), no other order sent while failing — and, once the fault is
lifted, a restart must record the fill exactly once and stop cleanly with a clean audit.

The faults: `locked` — another connection holds the write lock (BEGIN EXCLUSIVE); `full` —
the ledger on a small tmpfs that is then filled (needs mount permission, else skipped with
the reason); `read-only database` / `read-only -shm` — the file made unwritable: as root,
which ignores permission bits, with the immutable attribute (`chattr +i`, which the kernel
enforces for root and for writes through a memory mapping), otherwise with chmod. The four
run side by side, each with its own simulator. The harness never opens a ledger while its
`-shm` is unwritable (SQLite would die of SIGBUS in the harness too).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import aiohttp

from benchmarks.chaos.audit import ExchangeOrder, ExchangeTrade
from benchmarks.chaos.daemonproc import (
    caught_up,
    daemon_env,
    eventually,
    is_healthy,
    ledger_audit,
    start_daemon,
)
from benchmarks.chaos.files import Skip, fill_up, small_filesystem, unwritable
from benchmarks.chaos.outcome import Outcome
from benchmarks.chaos.simproc import SimProcess

FAULTS = ("locked", "full", "read-only database", "read-only -shm")
LATE_S = 10.0  # a safe stop later than the grace by more than this is named in the summary


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    grace_s: float = 4.0
    seed: int = 1


@dataclass
class FaultResult:
    name: str
    grace_s: float
    problems: list[str] = field(default_factory=list)
    skipped: str = ""
    stop_after_s: float = 0.0
    exit_code: int | None = None
    safe_stop: bool = False  # the safe stop's own checks passed (before the restart)

    def describe(self) -> str:
        if self.skipped:
            return f"{self.name} skipped ({self.skipped})"
        verdict = "safe stop" if self.safe_stop else "NO safe stop"
        late = self.stop_after_s - self.grace_s
        # Shown, not failed: the check is "not before the grace"; how late is a figure.
        past = f", {late:.0f} s past the grace" if late > LATE_S else ""
        restart = ", restart FAILED" if self.safe_stop and self.problems else ""
        return (
            f"{self.name} {verdict} (exit {self.exit_code} after {self.stop_after_s:.1f} s{past})"
            + restart
        )


@contextlib.contextmanager
def fault(name: str, db: Path) -> Iterator[None]:
    if name == "locked":
        blocker = sqlite3.connect(db, timeout=5)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            blocker.rollback()
            blocker.close()
    elif name == "full":
        fill_up(db.parent)
        try:
            yield
        finally:
            (db.parent / "filler").unlink()
    else:
        target = db if name == "read-only database" else db.with_name(db.name + "-shm")
        with unwritable(target):
            os.sync()  # written-back pages: SQLite's next write through its mapping faults
            yield


async def _stage(name: str, cfg: LedgerConfig, home: Path, result: FaultResult) -> None:
    sim = await SimProcess.start(seed=cfg.seed + FAULTS.index(name))
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    db = (home / "ledgerfs" if name == "full" else home / "data") / "trading.db"
    env = daemon_env(
        home,
        sim,
        E2E_OFFSET_PCT="0.6",
        E2E_MAX_WORKING="2",  # two entries rest, 0.6 % and 1.2 % below the bid
        E2E_TRADE_USD="4",
        MAX_TOTAL_EXPOSURE="20",
        LEDGER_FAILURE_GRACE_S=f"{cfg.grace_s:g}",
        DEAD_MAN_SWITCH_TIMEOUT_S="600",  # so only the safe stop can cancel meanwhile
        DATABASE_PATH=str(db),
    )
    problems = result.problems
    loop = asyncio.get_running_loop()
    try:
        daemon = await start_daemon(home, env)
        try:

            async def two_resting() -> bool:
                return len(await sim.open_orders()) == 2 and await caught_up(db, sim)

            if not await eventually(two_resting, 40):
                raise AssertionError("no two resting entries within 40 s\n" + daemon.tail())
            sent_before = {o.txid for o in await sim.orders()}
            with fault(name, db):
                struck = loop.time()
                await sim.call("pause_feed")
                await sim.move(Decimal("0.991"))  # fills the nearer entry only
                try:
                    result.exit_code = await daemon.wait(cfg.grace_s + 60)
                except TimeoutError:
                    problems.append(f"no safe stop within {cfg.grace_s + 60:g} s")
                    daemon.kill9()
                    result.exit_code = await daemon.wait(10)
                result.stop_after_s = loop.time() - struck
        finally:
            daemon.kill9()
        _check_safe_stop(result, cfg, daemon.tail())
        problems += _check_cover(await sim.orders(), sent_before, await sim.trades())
        result.safe_stop = not problems
        await sim.call("resume_feed")
        await _restart_and_audit(home, env, db, sim, http, problems)
    except Skip:
        raise
    except (AssertionError, TimeoutError) as exc:
        problems.append(str(exc) or repr(exc))
    finally:
        await http.close()
        await sim.stop()


def _check_cover(
    orders: list[ExchangeOrder], sent_before: set[str], trades: list[ExchangeTrade]
) -> list[str]:
    """While failing, the one order the daemon may send is the protective stop-loss sell for
    the fill it could not record (journaled before it is sent); every other order is gone."""
    if len(trades) != 1:
        return ["the staged fill did not happen"]
    held = trades[0].vol
    new = [o for o in orders if o.txid not in sent_before]
    covers = [o for o in new if o.side == "sell" and o.ordertype == "stop-loss"]
    problems = []
    if len(new) != len(covers) or len(covers) > 1:
        problems.append(
            "an order other than one protective stop reached the exchange while failing"
        )
    if not covers:
        problems.append("the position of the unrecorded fill was left without a protective stop")
    elif any(o.vol is None or o.vol > held for o in covers):
        problems.append(f"the protective stop is larger than the {held} held")
    cover_ids = {o.txid for o in covers}
    still = [o for o in orders if o.status in ("pending", "open") and o.txid not in cover_ids]
    if still:
        problems.append(f"{len(still)} orders left open at the exchange by the safe stop")
    return problems


def _check_safe_stop(result: FaultResult, cfg: LedgerConfig, tail: str) -> None:
    if result.exit_code != 1:
        result.problems.append(f"exit status {result.exit_code}, not 1 (the safe stop)\n{tail}")
    elif result.stop_after_s < cfg.grace_s:
        result.problems.append(
            f"stopped after {result.stop_after_s:.1f} s, before the {cfg.grace_s:g} s grace"
        )


async def _restart_and_audit(
    home: Path,
    env: dict[str, str],
    db: Path,
    sim: SimProcess,
    http: aiohttp.ClientSession,
    problems: list[str],
) -> None:
    daemon = await start_daemon(home, env)
    try:
        if not await eventually(lambda: is_healthy(daemon, http), 60):
            problems.append("not healthy after the restart\n" + daemon.tail())
        if not await eventually(lambda: caught_up(db, sim), 30):
            problems.append("the restart did not record what happened meanwhile")
        code = await daemon.stop(60)
        if code != 0:
            problems.append(f"the restart's graceful stop exited {code}\n{daemon.tail()}")
        report = await ledger_audit(db, sim, stopped=True)
        problems += report.problems()
    finally:
        daemon.kill9()


async def _one(name: str, cfg: LedgerConfig, workdir: Path) -> FaultResult:
    result = FaultResult(name, cfg.grace_s)
    home = workdir / ("ledger-" + name.replace(" ", "-").replace("--", "-"))
    home.mkdir(parents=True)
    try:
        if name == "full":
            with small_filesystem(home / "ledgerfs"):
                await _stage(name, cfg, home, result)
        else:
            await _stage(name, cfg, home, result)
    except Skip as exc:
        result.skipped = str(exc)
    return result


async def run_ledger(cfg: LedgerConfig, workdir: Path) -> Outcome:
    results = await asyncio.gather(*(_one(name, cfg, workdir) for name in FAULTS))
    problems = [f"{r.name}: {p}" for r in results for p in r.problems]
    safe = sum(1 for r in results if r.safe_stop)
    clean = sum(1 for r in results if r.safe_stop and not r.problems)
    staged = sum(1 for r in results if not r.skipped)
    summary = (
        f"ledger: {safe} of {staged} faults ended in the safe stop, {clean} with a clean "
        f"restart (grace {cfg.grace_s:g} s): " + "; ".join(r.describe() for r in results)
    )
    return Outcome(
        "ledger",
        ok=not problems and staged > 0,
        summary=summary,
        problems=problems,
        figures={
            r.name: {
                "skipped": r.skipped,
                "exit": r.exit_code,
                "stop_after_s": round(r.stop_after_s, 2),
                "ok": not r.problems and not r.skipped,
            }
            for r in results
        },
    )
