"""What the daemon tells its operator: which happenings become which notifications, that a
burst is one message (a ledger outage, a switch that keeps failing), the daily summary's
schedule in UTC and its figures from the status report, and start-up failures told."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, time

import pytest

from krakenbot.app.exitcodes import RunExit
from krakenbot.app.notices import Notices, build_notices, next_summary_ns, summary_fields
from krakenbot.app.notifier import Message, Notifier
from krakenbot.app.notify_targets import NotifySection, parse_targets
from krakenbot.app.startup_steps import StartupStepError
from krakenbot.app.status_model import StatusReport
from krakenbot.clock import ManualClock
from krakenbot.domain.effects import Notify
from krakenbot.domain.enums import NoticeKind
from krakenbot.resilience.breaker import BreakerState, BreakerTransition

NS = 1_000_000_000
LOOPBACK = "http://127.0.0.1:9/hook"  # never reached: these tests run no sender


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * NS


def _notices(clock: ManualClock, **kw: object) -> Notices:
    notifier = Notifier(parse_targets(LOOPBACK), mode="live", clock=clock, rng=random.Random(1))
    return Notices(notifier, clock, **kw)  # type: ignore[arg-type]


def _told(notices: Notices) -> list[Message]:
    (outbox,) = notices.notifier._outboxes
    return list(outbox.queue)


def test_the_cores_notices_are_worded_for_people_and_keep_their_fields() -> None:
    notices = _notices(ManualClock())
    fill = {"symbol": "XLM/USD", "side": "buy", "qty": "30", "price": "0.289", "fee": "0.01"}
    notices.engine_notice(Notify("fill recorded", fill, notice=NoticeKind.FILL))
    closed = {"symbol": "XLM/USD", "pnl": "0.12", "outcome": "win"}
    notices.engine_notice(Notify("position closed", closed, notice=NoticeKind.POSITION_CLOSED))
    notices.engine_notice(Notify("order placed", {"cl_ord_id": "kb1"}))  # the log's only
    texts = [(m.kind, m.text) for m in _told(notices)]
    assert texts == [
        (NoticeKind.FILL, "fill: buy 30 XLM/USD @ 0.289 (fee 0.01)"),
        (NoticeKind.POSITION_CLOSED, "position closed: XLM/USD, PnL 0.12 (win)"),
    ]
    assert dict(_told(notices)[0].fields) == fill


def test_a_ledger_outage_is_one_notification_until_writes_work_again() -> None:
    notices = _notices(ManualClock())
    for ok in (True, False, False, False, True, False):
        notices.ledger_write("insert_fill", ok)
    kinds = [m.kind for m in _told(notices)]
    assert kinds == [NoticeKind.LEDGER_FAILURE, NoticeKind.LEDGER_FAILURE]


def test_the_breaker_opening_and_closing_are_told_half_open_is_not() -> None:
    notices = _notices(ManualClock())
    steps = [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]
    for old, new in steps:
        notices.breaker(BreakerTransition("kraken-rest", old, new, "5 failures", 0, 5))
    told = _told(notices)
    assert [m.kind for m in told] == [NoticeKind.BREAKER_OPEN, NoticeKind.BREAKER_CLOSED]
    assert told[0].warning and "5 failures" in told[0].text


def test_a_switch_that_keeps_failing_is_told_once_per_period() -> None:
    clock = ManualClock()
    notices = _notices(clock, dms_every_s=600)
    for _ in range(5):
        notices.dms_problem("refresh failed: EService:Unavailable")
        clock.advance(60)  # a retry every minute (really: every second)
    clock.advance(600)
    notices.dms_problem("the daemon is unhealthy")
    assert [m.kind for m in _told(notices)] == [NoticeKind.DMS_NOT_REFRESHED] * 2


@pytest.mark.parametrize(
    ("now", "at", "due"),
    [
        ("2025-03-01T06:59:59", time(7, 0), "2025-03-01T07:00:00"),
        ("2025-03-01T07:00:00", time(7, 0), "2025-03-02T07:00:00"),  # strictly after
        ("2025-12-31T23:30:00", time(0, 0), "2026-01-01T00:00:00"),
    ],
)
def test_the_next_summary_is_the_next_such_utc_time(now: str, at: time, due: str) -> None:
    assert next_summary_ns(_ns(now), at) == _ns(due)


async def test_the_daily_summary_comes_once_a_day_at_its_utc_time() -> None:
    clock = ManualClock(start_ns=_ns("2025-03-01T06:58:00"))
    notices = _notices(clock, daily_summary_utc=time(7, 0))
    report = StatusReport(
        running=True,
        source="daemon",
        trading_state="ACTIVE",
        breaker_state="closed",
        open_orders=1,
        position={"XLM/USD": "34.4"},
        daily_pnl="-0.12",
        total_pnl="1.50",
        unrealized_pnl="-0.02",
        counts={"orders": 9, "fills": 4, "denials": 2},
    )
    done = asyncio.Event()
    asked: list[int] = []

    def now() -> StatusReport:
        asked.append(clock.now_ns())
        if len(asked) == 2:
            done.set()
        return report

    # The ManualClock runs as the task sleeps: days pass in a moment.
    async with asyncio.timeout(10):
        await notices._daily(done, time(7, 0), now)
    told = _told(notices)
    assert [m.kind for m in told] == [NoticeKind.DAILY_SUMMARY] * 2  # 1 and 2 March
    assert [m.at_ns for m in told] == [_ns("2025-03-01T07:00:00"), _ns("2025-03-02T07:00:00")]
    assert told[0].text.startswith("daily summary: PnL today -0.12 (realized total 1.50")
    assert dict(told[0].fields) == summary_fields(report)
    assert "positions XLM/USD 34.4" in told[0].text and "risk denials 2" in told[0].text


class Recording(Notifier):
    """Keeps what a flush would send (a unit test sends nothing)."""

    flushed: list[Message]

    async def flush(self, budget_s: float | None = None) -> int:
        self.flushed = [m for outbox in self._outboxes for m in outbox.queue]
        return 0


async def test_a_start_up_failure_is_told_and_flushed() -> None:
    clock = ManualClock()
    notifier = Recording(parse_targets(LOOPBACK), mode="live", clock=clock, rng=random.Random(1))
    with pytest.raises(StartupStepError):
        async with Notices(notifier, clock).lifetime():
            raise StartupStepError("reconcile", RunExit.RECONCILE, "exchange unreachable")
    (message,) = notifier.flushed
    assert message.kind is NoticeKind.FAILED and message.warning
    assert message.text == (
        "FAILED (exit status 7): start-up failed at step 'reconcile': exchange unreachable"
    )


async def test_a_clean_run_flushes_its_last_words() -> None:
    clock = ManualClock()
    notifier = Recording(parse_targets(LOOPBACK), mode="sim", clock=clock, rng=random.Random(1))
    async with Notices(notifier, clock).lifetime() as notices:
        notices.finished(True, "--duration 60 s elapsed", 0)
    assert [(m.kind, m.text) for m in notifier.flushed] == [
        (NoticeKind.STOPPED, "stopped: --duration 60 s elapsed")
    ]


def test_secrets_are_scrubbed_from_what_leaves() -> None:
    key = "FAKEKEYa1b2c3d4e5f6g7h8"
    notices = build_notices(
        NotifySection(parse_targets(LOOPBACK)), "live", ManualClock(), secrets=(key,)
    )
    halt = Notify("trading halted", {"reason": f"bad key {key}"}, True, NoticeKind.RISK_HALT)
    notices.engine_notice(halt)
    notices.dms_problem(f"refresh failed: api_key={key}")
    for message in _told(notices):
        assert key not in message.text and key not in str(message.fields)
        assert "[REDACTED]" in message.text
