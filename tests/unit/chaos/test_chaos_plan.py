"""The crash loop's plan of kill moments (benchmarks/chaos/crash.py)."""

from __future__ import annotations

import random

import pytest
from benchmarks.chaos.crash import MOMENTS, order_fault, plan


@pytest.mark.parametrize("kills", [1, 2, 4, 5, 8, 100])
def test_the_plan_has_one_moment_per_kill_and_hung_sends_only_at_the_end(kills: int) -> None:
    moments = plan(kills, random.Random(kills))
    assert len(moments) == kills and set(moments) <= set(MOMENTS)
    tail = max(1, kills // 5)
    assert "send hung" in moments[-tail:]
    assert "send hung" not in moments[:-tail]


def test_from_five_kills_every_moment_comes_at_least_once() -> None:
    for seed in range(20):
        assert set(plan(5, random.Random(seed))) == set(MOMENTS)
        assert set(plan(8, random.Random(seed))) == set(MOMENTS)


def test_hung_sends_are_one_per_25_kills_and_at_most_four() -> None:
    assert plan(8, random.Random(1)).count("send hung") == 1
    assert plan(50, random.Random(1)).count("send hung") == 2
    assert plan(100, random.Random(1)).count("send hung") == 4
    assert plan(400, random.Random(1)).count("send hung") == 4


def test_order_moments_take_turns_between_the_transports() -> None:
    # A short run (one kill each) covers both transports; a long one each moment over both.
    first = {m: order_fault(m, 0) for m in ("send hung", "response lost")}
    assert {found[0] for found in first.values() if found is not None} == {"rest", "websocket"}
    for moment in ("send hung", "response lost"):
        turns = [order_fault(moment, turn) for turn in range(4)]
        assert [t[0] for t in turns if t is not None] in (
            ["rest", "websocket"] * 2,
            ["websocket", "rest"] * 2,
        )
    assert order_fault("response lost", 0) == (
        "websocket",
        ("ws_drop_on", {"method": "add_order", "executed": True}),
    )
    assert order_fault("send hung", 1) == (
        "websocket",
        ("ws_drop_on", {"method": "add_order", "executed": False}),
    )
    assert order_fault("running", 0) is None and order_fault("stopping", 3) is None
