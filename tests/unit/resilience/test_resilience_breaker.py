import random

from krakenbot.clock import ManualClock
from krakenbot.resilience.backoff import Backoff
from krakenbot.resilience.breaker import BreakerState, BreakerTransition, CircuitBreaker


def make(
    threshold: int = 3, cooldown_s: float = 10.0
) -> tuple[CircuitBreaker, ManualClock, list[BreakerTransition]]:
    clock = ManualClock()
    seen: list[BreakerTransition] = []
    return (
        CircuitBreaker(
            clock, threshold=threshold, cooldown_s=cooldown_s, on_transition=seen.append
        ),
        clock,
        seen,
    )


def test_full_cycle_closed_open_half_open_closed() -> None:
    b, clock, seen = make()
    for _ in range(2):
        b.record_failure("boom")
    assert b.state is BreakerState.CLOSED and b.allow()
    b.record_failure("boom")
    assert b.state is BreakerState.OPEN and not b.admits() and not b.allow()
    assert b.retry_in_s() == 10.0
    clock.advance(9.9)
    assert b.state is BreakerState.OPEN
    clock.advance(0.1)
    assert b.state is BreakerState.HALF_OPEN
    assert b.admits() and b.admits()  # a look takes no probe
    assert b.allow() and not b.allow()  # exactly one probe
    assert not b.admits()  # ... and while it is out, nothing else would go
    b.record_success()
    assert b.state is BreakerState.CLOSED and b.admits() and b.allow()
    assert [(t.old, t.new) for t in seen] == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]
    assert seen[0].failures == 3 and "boom" in seen[0].reason
    assert list(b.transitions) == seen


def test_failed_probe_reopens_and_success_resets_count() -> None:
    b, clock, seen = make(threshold=2, cooldown_s=1)
    b.record_failure("x")
    b.record_success()
    b.record_failure("x")
    assert b.state is BreakerState.CLOSED
    b.record_failure("x")
    clock.advance(1)
    assert b.allow()
    b.record_failure("probe")
    assert b.state is BreakerState.OPEN
    assert seen[-1].old is BreakerState.HALF_OPEN and seen[-1].new is BreakerState.OPEN


def test_trip_opens_immediately() -> None:
    b, _, seen = make(threshold=100)
    b.trip("invalid nonce twice")
    assert b.state is BreakerState.OPEN and seen[-1].reason == "invalid nonce twice"


def test_backoff_is_capped_jittered_and_reproducible() -> None:
    bo = Backoff(base_s=0.5, cap_s=2.0, max_attempts=6)
    a = list(bo.delays(random.Random(7)))
    assert a == list(bo.delays(random.Random(7)))
    assert len(a) == 6 and all(0 <= d <= 2.0 for d in a)
    assert a[0] <= 0.5 and a[1] <= 1.0
    assert all(d >= 0.3 for d in Backoff(floor_s=0.3).delays(random.Random(1)))
