import pytest

from krakenbot.clock import ManualClock, SystemClock


async def test_manual_clock_sleep_advances_both() -> None:
    clock = ManualClock(start_ns=1_000, monotonic_ns=5)
    await clock.sleep(1.5)
    assert clock.now_ns() == 1_000 + 1_500_000_000
    assert clock.monotonic_ns() == 5 + 1_500_000_000


def test_manual_clock_wall_can_step_back_but_not_monotonic() -> None:
    clock = ManualClock(start_ns=10_000)
    clock.set_wall_ns(1)
    assert clock.now_ns() == 1
    with pytest.raises(ValueError):
        clock.advance(-1)


async def test_system_clock_is_sane() -> None:
    clock = SystemClock()
    a = clock.monotonic_ns()
    await clock.sleep(0)
    assert clock.monotonic_ns() >= a
    assert clock.now_ns() > 1_600_000_000_000_000_000
