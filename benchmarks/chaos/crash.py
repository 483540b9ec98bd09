"""Crash loop: `kill -9` a live daemon at random moments, N times, then audit the ledger.

One external simulator, one ledger, the market moving. Each cycle starts `run --live` and
kills it with SIGKILL at one of these moments, drawn at random:
  start-up       0.05-1.5 s after the spawn: imports, ledger, nonce state, reconciliation,
                 WebSocket connects (the daemon is healthy after about a second);
  running        0-3 s after it reported healthy;
  send hung      while an order request goes unanswered and Kraken never carries it out:
                 the order is in the ledger, its fate unknown;
  response lost  after the exchange executed an order whose answer it dropped: the order
                 exists, the daemon does not know its txid;
  stopping       during the graceful stop (SIGTERM) while its CancelOrders hang.
The two order moments take turns between the transports (ORDER_TRANSPORT of that cycle's
daemon; the first of each pair comes first, so a short run has each moment over one and
both transports): over REST an AddOrder that hangs (fault `timeout`) or whose answer is lost
(`lose_response`); over the private WebSocket (the default) the socket dropped on an
`add_order` before Kraken saw it or after it executed it (`ws_drop_on`).
Then a last clean run: healthy, caught up, graceful stop. The audit compares the ledger with
the exchange (lost / duplicated / phantom fills, unknown orders, orphaned open orders), and
the events show whether a position's exits were ever refused for longer than the breaker's
cooldown (`locked-out exits`).
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from benchmarks.chaos.daemonproc import (
    Daemon,
    caught_up,
    daemon_env,
    eventually,
    is_healthy,
    ledger_audit,
    lockouts,
    resolved,
    start_daemon,
)
from benchmarks.chaos.outcome import Outcome, market_mover
from benchmarks.chaos.simproc import SimProcess

MOMENTS = ("start-up", "running", "send hung", "response lost", "stopping")
# A send killed while it hangs leaves an order of unknown fate, which the daemon may only call
# absent 90 s into a run (audit.py, `unresolved`; it does so at the periodic reconciliation,
# every 120 s); until then it counts as working and the strategy waits on it. So those kills
# come in the last fifth of the loop, after the rest has had a trading market to crash into,
# one per 25 kills (at most 4), and with `resolve_s` each waits until the previous one's
# order is resolved (about 2 minutes) so that it has a send to hang.
_WEIGHTS = (3, 3, 0, 2, 1)
_HUNG_MAX = 4
_RETRIES = 3  # a moment that needs the daemon to send (or to be stopping) is tried again


def plan(kills: int, rng: random.Random) -> list[str]:
    """The moments of `kills` kills: every moment at least once (from 5 kills on), the hung
    sends in the last fifth, the rest drawn with the weights above."""
    tail = max(1, kills // 5)
    hung = max(1, min(_HUNG_MAX, kills // 25, tail))
    head = [m for m in MOMENTS if m != "send hung"][: max(0, kills - tail)]
    head += rng.choices(MOMENTS, _WEIGHTS, k=max(0, kills - tail - len(head)))
    last = ["send hung"] * hung + rng.choices(MOMENTS, _WEIGHTS, k=tail - hung)
    rng.shuffle(head)
    rng.shuffle(last)
    return head + last


Fault = tuple[str, dict[str, object]]
_WS_LOST: Fault = ("ws_drop_on", {"method": "add_order", "executed": True})
_WS_UNSEEN: Fault = ("ws_drop_on", {"method": "add_order", "executed": False})
# The order moments' faults by transport, in turns (see the module docstring).
_ORDER_FAULTS: dict[str, tuple[tuple[str, Fault], ...]] = {
    "send hung": (("rest", ("timeout", {"method": "AddOrder"})), ("websocket", _WS_UNSEEN)),
    "response lost": (
        ("websocket", _WS_LOST),
        ("rest", ("lose_response", {"method": "AddOrder"})),
    ),
}
# The stop's cancels go over REST whatever the transport (the private session stops first).
_STOPPING: Fault = ("timeout", {"method": "CancelOrder", "count": 3})


def order_fault(moment: str, turn: int) -> tuple[str, Fault] | None:
    """(transport, fault) of the `turn`-th kill at an order moment; None for the others."""
    turns = _ORDER_FAULTS.get(moment)
    return None if turns is None else turns[turn % len(turns)]


SLACK_S = 2.0  # the strategy's own pause between attempts, and the cost of one refusal


@dataclass(frozen=True, slots=True)
class CrashConfig:
    kills: int
    cooldown_s: float = 10.0
    seed: int = 1
    # Keep the last run up until the orders of unknown fate are proven absent (they can only
    # be after 90 s of a run: audit.py, `unresolved`); the short profile reports them.
    resolve_s: float = 0.0


@dataclass
class _Loop:
    sim: SimProcess
    home: Path
    env: dict[str, str]
    http: aiohttp.ClientSession
    rng: random.Random
    kills: Counter[str]
    problems: list[str]
    resolve_s: float
    over: Counter[str] = field(default_factory=Counter)  # order moments' kills by transport

    async def healthy(self, daemon: Daemon) -> bool:
        return await is_healthy(daemon, self.http)

    def _fault(self, moment: str) -> tuple[Fault | None, dict[str, str], str]:
        """The moment's fault, the cycle daemon's environment and its order transport
        ("" when the moment has no order fault): the transports take turns per moment."""
        found = order_fault(moment, self.kills[moment])
        if found is None:
            return (_STOPPING if moment == "stopping" else None), self.env, ""
        transport, fault = found
        return fault, {**self.env, "ORDER_TRANSPORT": transport}, transport

    async def _armed_and_fired(self, moment: str, fault: Fault) -> bool:
        if moment == "send hung":
            db = self.home / "data" / "trading.db"
            if self.resolve_s:  # the last hung send's order first: it blocks new sends
                await eventually(lambda: resolved(db, self.sim), self.resolve_s)
            await self.sim.fault(fault[0], **fault[1])
        return await eventually(lambda: self.sim.fired(fault[0]), 6)

    async def cycle(self, n: int, moment: str) -> str | None:
        """One start and kill; returns the moment the kill came at (None: no kill, the
        daemon had exited by itself)."""
        fault, env, transport = self._fault(moment)
        if fault is not None and moment != "send hung":
            await self.sim.fault(fault[0], **fault[1])
        daemon = await start_daemon(self.home, env)
        if moment == "start-up":
            await asyncio.sleep(self.rng.uniform(0.05, 1.5))
        elif not await eventually(lambda: self.healthy(daemon), 30):
            self.problems.append(f"cycle {n} ({moment}): not healthy within 30 s")
        elif moment == "running":
            await asyncio.sleep(self.rng.uniform(0.0, 3.0))
        elif moment == "stopping":
            daemon.proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(self.rng.uniform(0.05, 1.5))
        elif fault is not None and await self._armed_and_fired(moment, fault):
            await asyncio.sleep(self.rng.uniform(0.0, 1.0))
        else:
            moment = "running"  # no order was sent in time: an ordinary kill
        killed = daemon.running
        if killed:
            daemon.kill9()
            self.kills[moment] += 1
            if moment in _ORDER_FAULTS:
                self.over[f"{moment} ({transport})"] += 1
        code = await daemon.wait(20)
        if code != -signal.SIGKILL and not (moment == "stopping" and code == 0):
            self.problems.append(f"cycle {n} ({moment}): exited by itself with status {code}")
            self.problems.append(daemon.tail(5))
        await self.sim.fault("clear")
        return moment if killed else None


async def run_crash(cfg: CrashConfig, workdir: Path) -> Outcome:
    rng = random.Random(cfg.seed)
    home = workdir / "crash"
    home.mkdir(parents=True)
    db = home / "data" / "trading.db"
    sim = await SimProcess.start(seed=cfg.seed)
    env = daemon_env(
        home,
        sim,
        E2E_OFFSET_PCT="0.1",
        E2E_COOLDOWN_S="0.3",
        CIRCUIT_BREAKER_COOLDOWN_S=f"{cfg.cooldown_s:g}",
        REST_TIMEOUT_S="5",
    )
    loop = _Loop(sim, home, env, aiohttp.ClientSession(), rng, Counter(), [], cfg.resolve_s)
    final_code: int | None = None
    try:
        async with market_mover(sim, rng):
            queue, retries = deque(plan(cfg.kills, rng)), Counter[str]()
            n = 0
            while queue:
                wanted = queue.popleft()
                if await loop.cycle(n, wanted) != wanted and retries[wanted] < _RETRIES:
                    retries[wanted] += 1
                    queue.appendleft(wanted)  # no send (or stop) came in time: again
                n += 1
            daemon = await start_daemon(home, env)
            if not await eventually(lambda: loop.healthy(daemon), 60):
                loop.problems.append("the last run did not become healthy within 60 s")
        if not await eventually(lambda: caught_up(db, sim), 30):
            loop.problems.append("the ledger did not catch up with the exchange within 30 s")
        if cfg.resolve_s and not await eventually(lambda: resolved(db, sim), cfg.resolve_s):
            loop.problems.append(f"orders of unknown fate still unresolved after {cfg.resolve_s} s")
        final_code = await daemon.stop(60)
        if final_code != 0:
            loop.problems += [f"the last run's graceful stop exited {final_code}", daemon.tail()]
        report = await ledger_audit(db, sim, stopped=True)
        locked, longest = lockouts(db, cooldown_s=cfg.cooldown_s, slack_s=SLACK_S)
    finally:
        await loop.http.close()
        await sim.stop()
    loop.problems += report.problems() + [f"locked-out exits: {s.describe()}" for s in locked]
    kills = sum(loop.kills.values())
    moments = ", ".join(
        ", ".join(f"{n} {label}" for label, n in sorted(loop.over.items()) if label.startswith(m))
        if m in _ORDER_FAULTS
        else f"{loop.kills[m]} {m}"
        for m in MOMENTS
        if loop.kills[m]
    )
    summary = (
        f"crash: {kills} kills ({moments}), {report.fills} fills, {len(report.lost)} lost, "
        f"{len(report.duplicated)} duplicated, {len(report.phantom)} phantom, "
        f"{len(report.unknown)} unknown, {len(report.orphaned)} orphaned, "
        f"{len(report.mismatched)} mismatched, {len(report.unprotected)} unprotected "
        f"({len(report.protected)} protective stops left resting), "
        f"{len(report.unresolved)} unresolved, "
        f"{len(locked)} locked-out exits "
        f"(longest refusal {longest:.1f} s, cooldown {cfg.cooldown_s:g} s)"
    )
    return Outcome(
        "crash",
        ok=not loop.problems and kills >= cfg.kills,
        summary=summary,
        problems=loop.problems
        + ([] if kills >= cfg.kills else [f"only {kills} of {cfg.kills} kills delivered"]),
        figures={
            "kills": kills,
            "moments": dict(loop.kills),
            "order_moments_by_transport": dict(loop.over),
            "fills": report.fills,
            "orders": report.orders,
            "lost": len(report.lost),
            "duplicated": len(report.duplicated),
            "phantom": len(report.phantom),
            "unknown": len(report.unknown),
            "orphaned": len(report.orphaned),
            "mismatched": len(report.mismatched),
            "unprotected": len(report.unprotected),
            "protective_stops_resting": len(report.protected),
            "unresolved": len(report.unresolved),
            "locked_out_exits": len(locked),
            "longest_exit_refusal_s": round(longest, 2),
        },
    )
