"""Network faults: every fault class the simulator injects, against a running live daemon.

One daemon, the market moving (so it sends, fills and cancels all along). Each fault is
armed on the external simulator, then the scenario waits until it has actually fired
(`faults.pending`: a fault the daemon never ran into proves nothing and fails the run), lifts
it (latency), and waits for the daemon to report itself healthy again; the daemon must never
exit. Afterwards: caught up, graceful stop, and the ledger audit must be clean with no exit
locked out. The short profile injects each class once; the long one every variant twice.

Orders go over the private WebSocket (the default ORDER_TRANSPORT), so faults of the order
requests come twice: on the WebSocket's `add_order` (`ws_drop_on`: the socket dropped after
Kraken executed it or before it saw it; an injected error), and on REST's AddOrder, injected
into a daemon running with ORDER_TRANSPORT=rest (`transport`): the scenario switches by a
graceful stop and a start (`switches`), which then count like any other restart in the
audit.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from benchmarks.chaos.daemonproc import (
    Daemon,
    caught_up,
    daemon_env,
    eventually,
    health,
    is_healthy,
    ledger_audit,
    lockouts,
    start_daemon,
)
from benchmarks.chaos.outcome import Outcome, market_mover
from benchmarks.chaos.simproc import SimProcess

SLACK_S = 2.0
COOLDOWN_S = 10.0


@dataclass(frozen=True, slots=True)
class NetFault:
    label: str
    kind: str  # the FaultInjector method
    kwargs: dict[str, object] = field(default_factory=dict)
    fires: bool = True  # wait until `faults.pending` no longer lists it
    hold_s: float = 0.0  # latency: lifted after this long
    transport: str = "websocket"  # the daemon's ORDER_TRANSPORT while this fault is armed

    @property
    def reconnects(self) -> bool:
        """A dropped connection must be noticed: the daemon's reconnect count grows."""
        return self.kind in ("ws_drop", "ws_drop_on")


CLASSES = (
    NetFault("latency 1.5 s", "latency", {"seconds": 1.5}, fires=False, hold_s=4.0),
    NetFault("HTTP 503 x2", "http_status", {"status": 503, "count": 2}),
    NetFault("request hangs", "timeout", {"count": 1}),
    NetFault("add_order answer lost", "ws_drop_on", {"method": "add_order", "executed": True}),
    NetFault(
        "EService:Unavailable x2", "kraken_error", {"error": "EService:Unavailable", "count": 2}
    ),
    NetFault("public WS reset", "ws_drop", {"mode": "reset", "channel": "public"}, fires=False),
    NetFault("private WS stall", "ws_drop", {"mode": "stall", "channel": "private"}, fires=False),
    NetFault("malformed public frame", "ws_malformed", {"channel": "public"}),
    NetFault("truncated private frame", "ws_truncated", {"channel": "private"}),
    NetFault("bad book checksum", "book_bad_checksum"),
    NetFault("duplicate execution", "exec_duplicate"),
    NetFault("executions out of order", "exec_out_of_order"),
    NetFault("execution sequence gap", "exec_sequence_gap"),
    # Last: one switch to the REST order path and its faults (the next fault switches back).
    NetFault("AddOrder answer lost", "lose_response", {"method": "AddOrder"}, transport="rest"),
)
VARIANTS = (
    NetFault("HTTP 500", "http_status", {"status": 500}),
    NetFault("HTTP 429 x3", "http_status", {"status": 429, "count": 3}),
    NetFault("any answer lost", "lose_response", {"method": None}),
    NetFault("add_order never received", "ws_drop_on", {"method": "add_order", "executed": False}),
    NetFault(
        "EGeneral:Internal error on add_order",
        "kraken_error",
        {"error": "EGeneral:Internal error", "method": "add_order"},
    ),
    NetFault("EService:Busy x3", "kraken_error", {"error": "EService:Busy", "count": 3}),
    NetFault("EAPI:Invalid nonce", "kraken_error", {"error": "EAPI:Invalid nonce"}),
    NetFault("EAPI:Rate limit exceeded", "kraken_error", {"error": "EAPI:Rate limit exceeded"}),
    NetFault("public WS close", "ws_drop", {"mode": "close", "channel": "public"}, fires=False),
    NetFault("public WS stall", "ws_drop", {"mode": "stall", "channel": "public"}, fires=False),
    NetFault("private WS close", "ws_drop", {"mode": "close", "channel": "private"}, fires=False),
    NetFault("private WS reset", "ws_drop", {"mode": "reset", "channel": "private"}, fires=False),
    NetFault("malformed private frame", "ws_malformed", {"channel": "private"}),
    NetFault("truncated public frame", "ws_truncated", {"channel": "public"}),
    NetFault("duplicate executions x3", "exec_duplicate", {"count": 3}),
    # The REST order path's faults, together: one switch there and back.
    NetFault(
        "HTTP 502 on AddOrder",
        "http_status",
        {"status": 502, "method": "AddOrder"},
        transport="rest",
    ),
    NetFault("AddOrder hangs", "timeout", {"method": "AddOrder"}, transport="rest"),
    NetFault(
        "EGeneral:Internal error on AddOrder",
        "kraken_error",
        {"error": "EGeneral:Internal error", "method": "AddOrder"},
        transport="rest",
    ),
)


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    faults: tuple[NetFault, ...]
    seed: int = 1
    fire_within_s: float = 45.0
    recover_within_s: float = 60.0


@dataclass
class _Run:
    sim: SimProcess
    home: Path
    env: dict[str, str]
    http: aiohttp.ClientSession
    daemon: Daemon
    problems: list[str] = field(default_factory=list)
    recoveries: dict[str, float] = field(default_factory=dict)
    restarts: int = 0
    survived: int = 0  # injections after which nothing went wrong
    transport: str = "websocket"  # the running daemon's ORDER_TRANSPORT
    switches: int = 0  # graceful restarts to change it

    async def healthy(self) -> bool:
        return await is_healthy(self.daemon, self.http)

    async def reconnects(self) -> int:
        doc = await health(self.home / "data", self.http, self.daemon.proc.pid)
        counts = doc.get("counts", {}) if doc else {}
        return int(counts.get("reconnects", 0)) if isinstance(counts, dict) else 0

    async def inject(self, fault: NetFault, cfg: NetworkConfig) -> None:
        before_problems = len(self.problems)
        await self._use(fault.transport, cfg)
        await self._inject(fault, cfg)
        self.survived += len(self.problems) == before_problems

    async def _use(self, transport: str, cfg: NetworkConfig) -> None:
        """Run the daemon with ORDER_TRANSPORT=`transport`: a graceful stop, then a start."""
        if transport == self.transport:
            return
        code = await self.daemon.stop(60)
        if code != 0:
            self.problems += [f"switch to {transport}: graceful stop exited {code}"]
            self.problems.append(self.daemon.tail())
        self.env = {**self.env, "ORDER_TRANSPORT": transport}
        self.daemon = await start_daemon(self.home, self.env)
        self.transport, self.switches = transport, self.switches + 1
        if not await eventually(self.healthy, cfg.recover_within_s):
            self.problems.append(f"switch to {transport}: not healthy within 60 s")

    async def _inject(self, fault: NetFault, cfg: NetworkConfig) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        before = await self.reconnects()
        await self.sim.fault(fault.kind, **fault.kwargs)
        if fault.fires and not await eventually(
            lambda: self.sim.fired(fault.kind), cfg.fire_within_s
        ):
            self.problems.append(f"{fault.label}: never fired within {cfg.fire_within_s:g} s")
            await self.sim.fault("clear")
        if fault.hold_s:
            await asyncio.sleep(fault.hold_s)
            await self.sim.fault("latency", seconds=0)
        if fault.reconnects:

            async def noticed() -> bool:
                return await self.reconnects() > before

            if not await eventually(noticed, cfg.recover_within_s):
                self.problems.append(f"{fault.label}: no reconnect seen")
        await asyncio.sleep(0.5)  # let the fault's effect reach the daemon's health
        if not await eventually(self.healthy, cfg.recover_within_s):
            self.problems.append(
                f"{fault.label}: not healthy again within {cfg.recover_within_s:g} s"
            )
        self.recoveries[fault.label] = loop.time() - began
        if not self.daemon.running:
            self.problems += [
                f"{fault.label}: the daemon exited with status {self.daemon.proc.returncode}",
                self.daemon.tail(),
            ]
            self.daemon = await start_daemon(self.home, self.env)
            self.restarts += 1
            await eventually(self.healthy, 60)


async def run_network(cfg: NetworkConfig, workdir: Path) -> Outcome:
    rng = random.Random(cfg.seed)
    home = workdir / "network"
    home.mkdir(parents=True)
    db = home / "data" / "trading.db"
    sim = await SimProcess.start(seed=cfg.seed + 1)
    env = daemon_env(
        home,
        sim,
        E2E_OFFSET_PCT="0.1",
        E2E_COOLDOWN_S="0.3",
        CIRCUIT_BREAKER_COOLDOWN_S=f"{COOLDOWN_S:g}",
        REST_TIMEOUT_S="3",
        DEAD_MAN_SWITCH_REFRESH_S="5",
    )
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    run = _Run(sim, home, env, http, await start_daemon(home, env))
    try:
        if not await eventually(run.healthy, 60):
            run.problems.append("the daemon did not become healthy within 60 s")
        async with market_mover(sim, rng):
            for fault in cfg.faults:
                await run.inject(fault, cfg)
        if not await eventually(lambda: caught_up(db, sim), 30):
            run.problems.append("the ledger did not catch up with the exchange within 30 s")
        code = await run.daemon.stop(60)
        if code != 0:
            run.problems += [f"graceful stop exited {code}", run.daemon.tail()]
        report = await ledger_audit(db, sim, stopped=True)
        locked, longest = lockouts(db, cooldown_s=COOLDOWN_S, slack_s=SLACK_S)
    finally:
        run.daemon.kill9()
        await http.close()
        await sim.stop()
    run.problems += report.problems() + [f"locked-out exits: {s.describe()}" for s in locked]
    slowest = max(run.recoveries.items(), key=lambda kv: kv[1], default=("-", 0.0))
    summary = (
        f"network: {len(cfg.faults)} faults ({len({f.kind for f in cfg.faults})} classes), "
        f"{run.survived} survived, {run.restarts} daemon exits, {run.switches} switches of "
        f"ORDER_TRANSPORT, healthy again after each "
        f"(slowest {slowest[1]:.1f} s: {slowest[0]}), {report.fills} fills, "
        f"audit {report.figures()}, {len(locked)} locked-out exits (longest refusal "
        f"{longest:.1f} s)"
    )
    return Outcome(
        "network",
        ok=not run.problems,
        summary=summary,
        problems=run.problems,
        figures={
            "faults": len(cfg.faults),
            "classes": len({f.kind for f in cfg.faults}),
            "daemon_exits": run.restarts,
            "transport_switches": run.switches,
            "recovery_s": {k: round(v, 2) for k, v in run.recoveries.items()},
            "fills": report.fills,
            "lost": len(report.lost),
            "duplicated": len(report.duplicated),
            "phantom": len(report.phantom),
            "unknown": len(report.unknown),
            "orphaned": len(report.orphaned),
            "mismatched": len(report.mismatched),
            "unprotected": len(report.unprotected),
            "locked_out_exits": len(locked),
            "longest_exit_refusal_s": round(longest, 2),
        },
    )
