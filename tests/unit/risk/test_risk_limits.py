from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from riskkit import LIMITS

from krakenbot.errors import ConfigError
from krakenbot.risk.limits import BreakerLimits


@pytest.mark.parametrize(
    "changes",
    [
        {"allowed_symbols": frozenset()},
        {"min_order_usd": D("0")},
        {"min_order_usd": D("11")},
        {"max_total_exposure_usd": D("9")},
        {"max_positions": 0},
        {"max_daily_loss_usd": D("0")},
        {"price_band_pct": D("0")},
        {"price_band_pct": D("100")},
        {"max_book_age_s": 0.0},
        {"order_window_s": 0.0},
        {"max_orders_per_window": 0},
    ],
)
def test_risk_limits_reject_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        replace(LIMITS, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"max_ws_disconnects": 0},
        {"max_order_failures": 0},
        {"max_balance_mismatches": 0},
        {"window_s": 0.0},
        {"price_window_s": 0.0},
        {"price_jump_pct": D("0")},
    ],
)
def test_breaker_limits_reject_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        BreakerLimits(**changes)  # type: ignore[arg-type]


def test_defaults_are_valid() -> None:
    assert BreakerLimits().max_order_failures == 3
    assert LIMITS.post_only
