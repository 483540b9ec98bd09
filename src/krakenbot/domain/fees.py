"""Kraken's spot fee schedule: maker and taker percentages by 30-day USD volume tier.

Owns: `TAKER_FEES` / `MAKER_FEES` (as AssetPairs prints them: `[volume, percent]`, lowest
tier first) and `fee_tier(n)`, the (maker, taker) percentages of tier `n` (0 = the lowest
volume). The numbers are Kraken Pro's standard spot schedule (kraken.com/features/
fee-schedule, 2025: 0.25 % maker / 0.40 % taker below USD 10,000 of 30-day volume, down to
0.00 % / 0.10 % from USD 10,000,000), the same the real 2025 XBTUSDT AssetPairs capture
shows. Stablecoin and FX pairs have a lower schedule of their own, not modelled here.
The simulator serves these tiers in AssetPairs; the backtest charges them.
Imports: stdlib only.
"""

from __future__ import annotations

from decimal import Decimal

D = Decimal

TAKER_FEES: tuple[tuple[int, Decimal], ...] = (
    (0, D("0.4")),
    (10000, D("0.35")),
    (50000, D("0.24")),
    (100000, D("0.22")),
    (250000, D("0.2")),
    (500000, D("0.18")),
    (1000000, D("0.16")),
    (2500000, D("0.14")),
    (5000000, D("0.12")),
    (10000000, D("0.1")),
)
MAKER_FEES: tuple[tuple[int, Decimal], ...] = (
    (0, D("0.25")),
    (10000, D("0.2")),
    (50000, D("0.14")),
    (100000, D("0.12")),
    (250000, D("0.1")),
    (500000, D("0.08")),
    (1000000, D("0.06")),
    (2500000, D("0.04")),
    (5000000, D("0.02")),
    (10000000, D("0.0")),
)
TIERS = len(TAKER_FEES)


def fee_tier(n: int) -> tuple[Decimal, Decimal]:
    """(maker %, taker %) of tier `n`, 0 being the lowest 30-day volume."""
    if not 0 <= n < TIERS:
        raise ValueError(f"fee tier {n}: Kraken's spot schedule has tiers 0 to {TIERS - 1}")
    return MAKER_FEES[n][1], TAKER_FEES[n][1]


def tier_volume(n: int) -> int:
    """The 30-day USD volume from which tier `n` applies."""
    fee_tier(n)
    return TAKER_FEES[n][0]
