"""`MeanReversion.next_due` never answers later than the truth: for any state (flat or long,
entries and exits working or being cancelled, throttles running, warming up or not), a
timer tick before the answer — the view unchanged, as no other event came — makes the
strategy do nothing. Asked again later (its kept answer), the same holds."""

from __future__ import annotations

import copy
from dataclasses import replace
from decimal import Decimal as D

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.instruments import XLM
from tests.strategy_view import SnapshotView
from tests.unit.strategy.test_mean_reversion import PARAMS, S, entry_order, top, tp_order, warmed

from krakenbot.domain.events import TimerTick
from krakenbot.domain.working import WorkingOrder
from krakenbot.strategy.mean_reversion import MeanReversion

TAGS = ("entry", "take_profit", "stop_loss", "time_stop")


@st.composite
def states(draw: st.DrawFn) -> tuple[MeanReversion, SnapshotView, int]:
    params = replace(
        PARAMS,
        warmup_s=draw(st.sampled_from([10.0, 25.0, 40.0])),
        entry_z=draw(st.sampled_from([0.5, 1.0, 2.0])),
        max_hold_s=draw(st.sampled_from([30.0, 3600.0])),
    )
    s, t = warmed(MeanReversion(params), n=draw(st.integers(3, 30)))
    now = t + draw(st.integers(0, 40)) * S // 2
    bid = D("0.2400") + D(draw(st.integers(0, 250))) / 10_000
    book = top(str(bid), str(bid + D("0.0010")), t - S)
    working: list[WorkingOrder] = []
    for i, tag in enumerate(draw(st.lists(st.sampled_from(TAGS), max_size=2))):
        made = entry_order(0) if tag == "entry" else tp_order()
        working.append(
            replace(
                made,
                created_ns=now - draw(st.integers(0, 120)) * S,
                cl_ord_id=f"kb{tag}{i:012d}",
                tag=tag,
                cancel_requested=draw(st.booleans()),
            )
        )
    long = draw(st.booleans())
    v = SnapshotView(
        books={"XLM/USD": book},
        instruments={"XLM/USD": XLM},
        positions={"XLM/USD": D("40")} if long else {},
        entries={"XLM/USD": D("0.2460")} if long else {},
        opened={"XLM/USD": now - draw(st.integers(0, 60)) * S} if long else {},
        working=tuple(working),
    )
    if draw(st.booleans()):
        s._last_entry_ns = now - draw(st.integers(0, 40)) * S
    if draw(st.booleans()):
        s._last_exit_ns = now - draw(st.integers(0, 10)) * S
    return s, v, now


def _quiet_until(s: MeanReversion, v: SnapshotView, now: int, due: int | None) -> None:
    """Every tick from `now` to the answer (or 200 s on) does nothing."""
    end = now + 200 * S if due is None else due
    t = now
    while t < end:
        assert copy.deepcopy(s).on_event(TimerTick(t), v) == [], (t, due)
        t += max(1, (end - now) // 23)  # some ticks across the span, the last one close
    if end > now:
        assert copy.deepcopy(s).on_event(TimerTick(end - 1), v) == [], (end - 1, due)


@settings(max_examples=300, deadline=None)
@given(states(), st.integers(0, 90), st.integers(-150, 150))
def test_no_tick_before_next_due_would_act(state: tuple, later_s: int, move: int) -> None:
    s, v, now = state
    due = s.next_due(now, v)
    _quiet_until(s, v, now, due)
    then = now + later_s * S  # asked again (the kept answer, or worked out again)
    _quiet_until(s, v, then, s.next_due(then, v))
    # A new book (the bid moved), which the strategy decides on first: asked again.
    bid = v.books["XLM/USD"].bids[0].price + D(move) / 10_000
    book = top(str(bid), str(bid + D("0.0010")), then)
    moved = replace(v, books={"XLM/USD": book})
    assume(s.on_event(book, moved) == [])
    _quiet_until(s, moved, then, s.next_due(then, moved))
