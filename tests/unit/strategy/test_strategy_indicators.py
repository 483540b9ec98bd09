from __future__ import annotations

import math

import pytest

from krakenbot.strategy.indicators import EwmaStats

S = 1_000_000_000


def test_first_sample_sets_mean_and_no_spread() -> None:
    e = EwmaStats(60.0)
    assert e.zscore(1.0) is None and e.age_s(5 * S) == 0.0
    e.update(1.0, 10 * S)
    assert e.mean == 1.0 and e.std == 0.0 and e.zscore(2.0) is None


def test_one_half_life_moves_halfway() -> None:
    e = EwmaStats(60.0)
    e.update(1.0, 0)
    e.update(2.0, 60 * S)
    assert math.isclose(e.mean, 1.5)
    assert math.isclose(e.var, 0.5 * (0 + 0.5 * 1.0))  # (1-a)(var + a d^2), a = 0.5
    assert e.age_s(90 * S) == 90.0
    assert e.zscore(e.mean) == 0.0


def test_simultaneous_and_out_of_order_updates_weigh_nothing() -> None:
    e = EwmaStats(60.0)
    e.update(1.0, 100 * S)
    e.update(5.0, 100 * S)
    e.update(9.0, 50 * S)
    assert e.mean == 1.0 and e.samples == 3 and e.last_ns == 100 * S


def test_tick_rate_does_not_change_the_estimate_much() -> None:
    slow, fast = EwmaStats(30.0), EwmaStats(30.0)
    slow.update(1.0, 0)
    fast.update(1.0, 0)
    slow.update(2.0, 10 * S)
    for k in range(1, 11):
        fast.update(2.0, k * S)
    assert math.isclose(slow.mean, fast.mean)


def test_bad_half_life() -> None:
    with pytest.raises(ValueError, match="half-life"):
        EwmaStats(0)


def _reference(halflife_s: float, points: list[tuple[float, int]]) -> tuple[float, float]:
    """The update rule written out, the weight worked out afresh at every step."""
    mean, var, last = points[0][0], 0.0, points[0][1]
    for value, t in points[1:]:
        alpha = 1.0 - 0.5 ** ((max(0, t - last) / 1e9) / halflife_s)
        delta = value - mean
        mean += alpha * delta
        var = (1.0 - alpha) * (var + alpha * delta * delta)
        last = max(last, t)
    return mean, var


def test_the_remembered_weight_gives_the_same_floats() -> None:
    """A regular feed reuses the last step's weight: bit for bit what working it out gives,
    whatever the steps (repeated, changed, out of order) and a changed half-life."""
    steps = [60, 60, 60, 1, 60, 0, 60, 7, 7, -5, 60, 60]
    points, t = [(0.29, 0)], 0
    for k, dt in enumerate(steps, start=1):
        t += dt * S
        points.append((0.29 + 0.001 * ((k * 7) % 5 - 2), t))
    e = EwmaStats(90.0)
    for value, at in points:
        e.update(value, at)
    assert (e.mean, e.var) == _reference(90.0, points)
    e.halflife_s = 30.0  # a changed half-life is not answered with the old weight
    e.update(0.3, t + 60 * S)
    e.update(0.31, t + 120 * S)
    mean, var = _reference(90.0, points)
    for value, dt_s in ((0.3, 60.0), (0.31, 60.0)):
        alpha = 1.0 - 0.5 ** (dt_s / 30.0)
        delta = value - mean
        mean += alpha * delta
        var = (1.0 - alpha) * (var + alpha * delta * delta)
    assert (e.mean, e.var) == (mean, var)
