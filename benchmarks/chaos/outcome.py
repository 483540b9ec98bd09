"""One scenario's result: its summary line of figures, its verdict, what went wrong.

Owns: `Outcome` (what every scenario returns and `--json` prints) and the market mover the
crash loop and the network faults share: the mid price hops at random within ±`pct` % of
where it started (hops, not a walk: the market neither drifts away nor trends), so resting
entries and exits fill every few seconds and the daemon always has orders to send, cancel
and record. The simulators run the random feed, which walks on from wherever a hop left the
price (a replay feed would put it back on its recorded path at the next tick).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

from benchmarks.chaos.simproc import ControlError, SimProcess


@dataclass
class Outcome:
    name: str
    ok: bool
    summary: str
    problems: list[str] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.summary} — {'PASS' if self.ok else 'FAIL'}"

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ok": self.ok,
            "summary": self.summary,
            "figures": self.figures,
            "problems": self.problems,
        }


async def _move_market(sim: SimProcess, rng: random.Random, period_s: float, pct: float) -> None:
    anchor = await sim.mid()
    while True:
        await asyncio.sleep(period_s * rng.uniform(0.5, 1.5))
        factor = Decimal(1) + Decimal(str(round(rng.uniform(-pct, pct), 4))) / 100
        with contextlib.suppress(ControlError):
            await sim.call("set_mid", symbol="XLM/USD", price=str(anchor * factor))


@contextlib.asynccontextmanager
async def market_mover(
    sim: SimProcess, rng: random.Random, *, period_s: float = 0.8, pct: float = 0.4
) -> AsyncIterator[None]:
    """Set the mid within ±`pct` % of its starting value about every `period_s` seconds."""
    task = asyncio.get_running_loop().create_task(_move_market(sim, rng, period_s, pct))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
