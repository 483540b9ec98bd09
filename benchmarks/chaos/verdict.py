"""The soak's verdict: is the daemon's resource use flat? (pure: samples in, verdict out)

Owns: `Sample` (one reading of RSS, open file descriptors and asyncio tasks at a time since
start), `Bounds` (how much growth still counts as flat) and `soak_verdict()`.

Flat means: after the warm-up (imports, caches, the first reconnects and orders), the median
of the last fifth of the readings exceeds the median of the first fifth by no more than the
bound, for every metric. Medians, not single readings: a garbage collection or one order in
flight must not decide the verdict; a leak grows the whole tail. Too few readings after the
warm-up is a failure, not a pass.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIB = 1024 * 1024
MIN_SAMPLES = 10  # after the warm-up
METRICS = ("rss", "fds", "tasks")


@dataclass(frozen=True, slots=True)
class Sample:
    t_s: float
    rss: int  # bytes
    fds: int
    tasks: int


@dataclass(frozen=True, slots=True)
class Bounds:
    rss: int = 16 * MIB
    fds: int = 4
    tasks: int = 4


@dataclass(frozen=True, slots=True)
class Growth:
    metric: str
    start: float
    end: float
    bound: float

    @property
    def growth(self) -> float:
        return self.end - self.start

    @property
    def flat(self) -> bool:
        return self.growth <= self.bound

    def describe(self) -> str:
        if self.metric == "rss":
            return (
                f"RSS {self.start / MIB:.1f}->{self.end / MIB:.1f} MiB "
                f"({self.growth / MIB:+.1f}, bound {self.bound / MIB:.0f})"
            )
        return (
            f"{self.metric} {self.start:g}->{self.end:g} ({self.growth:+g}, bound {self.bound:g})"
        )


@dataclass(frozen=True, slots=True)
class SoakVerdict:
    growths: tuple[Growth, ...]
    samples: int
    problem: str = ""

    @property
    def flat(self) -> bool:
        return not self.problem and all(g.flat for g in self.growths)

    def describe(self) -> str:
        if self.problem:
            return self.problem
        return ", ".join(g.describe() for g in self.growths)


def soak_verdict(samples: Sequence[Sample], *, warmup_s: float, bounds: Bounds) -> SoakVerdict:
    settled = sorted((s for s in samples if s.t_s >= warmup_s), key=lambda s: s.t_s)
    if len(settled) < MIN_SAMPLES:
        return SoakVerdict(
            (), len(settled), f"only {len(settled)} readings after the warm-up (need 10)"
        )
    window = max(3, len(settled) // 5)
    head, tail = settled[:window], settled[-window:]
    growths = tuple(
        Growth(
            metric,
            statistics.median(getattr(s, metric) for s in head),
            statistics.median(getattr(s, metric) for s in tail),
            getattr(bounds, metric),
        )
        for metric in METRICS
    )
    return SoakVerdict(growths, len(settled))
