"""The two profiles: `short` (every change: .ci/run, about 3 minutes) and `long` (releases).

Owns: each scenario's figures per profile and the plan — the soak runs in the background
for the whole run, the phases run one after the other, the scenarios of a phase side by
side (the crash loop and the network faults mostly wait on timers and sockets; the nonce
storm and the fuzz want both cores, so they come last).

Bounds of the soak: after the warm-up, file descriptors and asyncio tasks may grow by 4 and
RSS by 16 MiB (medians of the first and last fifth of the readings). Measured: +1.2 MiB over
150 s, +0 descriptors, +0 tasks (short, seed 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.chaos.crash import CrashConfig
from benchmarks.chaos.fuzz import FuzzConfig
from benchmarks.chaos.ledger import LedgerConfig
from benchmarks.chaos.network import CLASSES, VARIANTS, NetworkConfig
from benchmarks.chaos.nonce import NonceConfig
from benchmarks.chaos.soak import SoakConfig
from benchmarks.chaos.verdict import Bounds


@dataclass(frozen=True, slots=True)
class Profile:
    crash: CrashConfig
    nonce: NonceConfig
    fuzz: FuzzConfig
    ledger: LedgerConfig
    network: NetworkConfig
    soak: SoakConfig
    phases: tuple[tuple[str, ...], ...]
    json: bool = False


def short(*, seed: int, json: bool) -> Profile:
    return Profile(
        crash=CrashConfig(kills=8, seed=seed),
        nonce=NonceConfig(calls=3_000),
        fuzz=FuzzConfig(total=200_000, seed=seed, hang_s=10.0),
        ledger=LedgerConfig(grace_s=3.0, seed=seed),
        network=NetworkConfig(faults=CLASSES, seed=seed),
        soak=SoakConfig(seconds=150, period_s=2.0, warmup_s=30, bounds=Bounds()),
        phases=(("crash", "network", "ledger"), ("nonce",), ("fuzz",)),
        json=json,
    )


def long(*, seed: int, json: bool) -> Profile:
    return Profile(
        crash=CrashConfig(kills=100, seed=seed, resolve_s=180),
        nonce=NonceConfig(calls=10_200),
        fuzz=FuzzConfig(total=1_000_000, seed=seed),
        ledger=LedgerConfig(grace_s=10.0, seed=seed),
        network=NetworkConfig(faults=(CLASSES + VARIANTS) * 2, seed=seed),
        soak=SoakConfig(seconds=1800, period_s=10.0, warmup_s=300, bounds=Bounds()),
        phases=(("crash", "network"), ("ledger",), ("nonce",), ("fuzz",)),
        json=json,
    )


PROFILES: dict[str, Callable[..., Profile]] = {"short": short, "long": long}
