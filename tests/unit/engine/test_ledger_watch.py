"""The "ledger unwritable for the grace period → safe stop" rule, and the repository wrapper."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenbot.clock import ManualClock
from krakenbot.engine.ledger_watch import LedgerUnwritableError, LedgerWatch, WatchedRepository
from krakenbot.store import LedgerRepository, open_ledger

S = 1_000_000_000
LOCKED = sqlite3.OperationalError("database is locked")


def test_the_first_failure_marks_failing_at_once_and_a_success_clears_it() -> None:
    watch = LedgerWatch(30)
    assert watch.failing is None and watch.overdue(10**12) is None
    first = watch.failed("insert_fill", LOCKED, 5 * S)
    assert watch.failing == first and first.since_ns == 5 * S and first.count == 1
    assert "insert_fill" in first.describe() and "database is locked" in first.describe()
    watch.failed("record_event", OSError(28, "No space left on device"), 7 * S)
    failing = watch.failing
    assert failing is not None and failing.since_ns == 5 * S and failing.last_ns == 7 * S
    assert failing.count == 2 and failing.operation == "record_event"
    watch.succeeded("set_state", 8 * S)
    assert watch.failing is None and watch.failures == 2
    watch.succeeded("set_state", 9 * S)  # nothing to clear
    assert watch.failing is None


def test_recovery_is_announced_once_per_failure_run() -> None:
    recovered: list[int] = []
    watch = LedgerWatch(30, on_recovered=lambda: recovered.append(1))
    watch.succeeded("set_state", 1 * S)
    watch.failed("insert_fill", LOCKED, 2 * S)
    watch.failed("insert_fill", LOCKED, 3 * S)
    watch.succeeded("set_state", 4 * S)
    watch.succeeded("set_state", 5 * S)
    assert recovered == [1]


def test_overdue_only_after_the_whole_grace_period_without_a_success() -> None:
    watch = LedgerWatch(30)
    watch.failed("insert_order", LOCKED, 100 * S)
    assert watch.overdue(129 * S) is None
    overdue = watch.overdue(130 * S)
    assert overdue is not None
    error = watch.overdue_error(overdue, 131 * S)
    assert isinstance(error, LedgerUnwritableError)
    assert "31.0 s" in str(error) and "insert_order" in str(error)
    watch.succeeded("set_state", 131 * S)  # a success restarts the clock
    watch.failed("insert_order", LOCKED, 132 * S)
    assert watch.overdue(150 * S) is None and watch.overdue(162 * S) is not None


def test_the_failure_clock_starts_at_the_attempt_never_before_the_last_success() -> None:
    watch = LedgerWatch(4)
    assert watch.due_in_s(0) is None
    # Attempted at 3 s, it waited out a lock until 5 s: failing since 3 s.
    first = watch.failed("insert_fill", LOCKED, 5 * S, started_ns=3 * S)
    assert first.since_ns == 3 * S and first.last_ns == 5 * S
    assert watch.due_in_s(5 * S) == 2.0 and watch.overdue(7 * S) is not None
    watch.failed("set_state", LOCKED, 6 * S, started_ns=1 * S)  # the run keeps its start
    failing = watch.failing
    assert failing is not None and failing.since_ns == 3 * S
    assert watch.due_in_s(9 * S) == 0
    # A write queued since 10 s behind one that succeeded at 12 s: failing since 12 s.
    watch.succeeded("set_state", 12 * S)
    assert watch.due_in_s(12 * S) is None
    again = watch.failed("insert_fill", LOCKED, 13 * S, started_ns=10 * S)
    assert again.since_ns == 12 * S and watch.due_in_s(13 * S) == 3.0


def test_the_watch_looks_in_time_to_stop_on_the_grace_and_probes_meanwhile() -> None:
    # Healthy: every check, but at least twice per grace and at most every 50 ms.
    assert LedgerWatch(30).next_look_s(0, 1.0) == 1.0
    assert LedgerWatch(1).next_look_s(0, 1.0) == 0.5
    assert LedgerWatch(60).next_look_s(0, 120.0) == 30.0
    assert LedgerWatch(0.001).next_look_s(0, 1.0) == 0.05
    # Failing: the next probe, or the grace's end if that comes first (not after it).
    watch = LedgerWatch(4)
    watch.failed("insert_fill", LOCKED, 2 * S, started_ns=0)
    assert watch.next_look_s(2 * S, 1.0) == 1.0
    assert watch.next_look_s(3_500_000_000, 1.0) == 0.5
    assert watch.next_look_s(5 * S, 1.0) == 0


@pytest.mark.parametrize("grace", [0, -1, float("nan")])
def test_the_grace_period_must_be_positive(grace: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        LedgerWatch(grace)


@given(
    st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=10 * S)), max_size=30),
    st.integers(min_value=1, max_value=60),
)
def test_overdue_means_failing_without_a_success_for_the_grace(
    outcomes: list[tuple[bool, int]], grace: int
) -> None:
    watch = LedgerWatch(grace)
    now = 0
    run_start: int | None = None
    for ok, step in outcomes:
        now += step
        if ok:
            watch.succeeded("w", now)
            run_start = None
        else:
            watch.failed("w", LOCKED, now)
            run_start = now if run_start is None else run_start
    later = now + grace * S // 2
    expected = run_start is not None and later - run_start >= grace * S
    assert (watch.overdue(later) is not None) is expected
    assert (watch.failing is None) is (run_start is None)


async def test_the_wrapper_reports_writes_and_passes_reads(tmp_path: Path) -> None:
    clock = ManualClock()
    db = await open_ledger(tmp_path / "t.db", clock)
    try:
        watch = LedgerWatch(30)
        repo = WatchedRepository(LedgerRepository(db, clock), watch, clock.monotonic_ns)
        writes: list[tuple[str, float, bool]] = []
        repo.observer = Writes(writes)  # type: ignore[assignment]
        await repo.set_state("k", "v")
        assert await repo.get_state("k") == "v" and watch.failing is None
        await db.pragma("busy_timeout=20")
        blocker = sqlite3.connect(tmp_path / "t.db", timeout=1)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(sqlite3.OperationalError):  # never swallowed
                await repo.record_event("x", {"a": "b"})
            failing = watch.failing
            assert failing is not None and failing.operation == "record_event"
            assert await repo.get_state("k") == "v"  # reads still work (WAL)...
            assert watch.failing is not None  # ...and say nothing about writes
        finally:
            blocker.rollback()
            blocker.close()
        clock.advance(3)
        row = {
            "balance_usd": "1",
            "total_trades": "0",
            "winning_trades": "0",
            "total_profit_loss": "0",
            "daily_profit_loss": "0",
        }
        await repo.record_metrics(row, clock.now_ns())
        assert watch.failing is None
        assert await repo.load_fills(0) == [] and await repo.orders_since(0) == []
        assert await repo.order_by_cl_ord_id("kbx") is None
        assert await repo.order_by_txid("OX") is None
        assert await repo.fills_for_order("kbx") == []
        # Every write, and only writes, told with its outcome (metrics, notifications).
        assert [(op, ok) for op, _, ok in writes] == [
            ("set_state", True),
            ("record_event", False),
            ("record_metrics", True),
        ]
        assert all(seconds >= 0 for _, seconds, _ in writes)
    finally:
        await db.close()


class Writes:
    def __init__(self, into: list[tuple[str, float, bool]]) -> None:
        self.into = into

    def ledger_write(self, operation: str, seconds: float, ok: bool) -> None:
        self.into.append((operation, seconds, ok))
