"""A book's decision taken on `next_due`'s standing answer (the decision skipped) is the
decision worked out in full: for any state and any later book (the bid moved or not, time
gone on), a strategy holding a `next_due` answer returns the same intents and is left in the
same state as one that holds none. With a view that offers `state_version` (the engine's)
too, and after the view's orders changed behind an unchanged stamp's back the full check
still runs."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategy_view import SnapshotView
from tests.unit.strategy.test_mean_reversion import S, top, tp_order
from tests.unit.strategy.test_mean_reversion_due import states

from krakenbot.domain.events import BookTop
from krakenbot.domain.working import WorkingOrder
from krakenbot.strategy.mean_reversion import MeanReversion


@dataclass(frozen=True, slots=True)
class StampedView(SnapshotView):
    """A `SnapshotView` with the engine view's `state_version`: it changes whenever the
    positions, entries, opening times or working orders are other objects."""

    @property
    def state_version(self) -> tuple[int, int, int, int]:
        return id(self.positions), id(self.entries), id(self.opened), id(self.working)


def _stamped(v: SnapshotView) -> StampedView:
    return StampedView(**{f: getattr(v, f) for f in SnapshotView.__dataclass_fields__})


def _state(s: MeanReversion) -> tuple[object, ...]:
    return s._last_entry_ns, s._last_exit_ns, s.stats.mean, s.stats.var, s.stats.samples


def _same_decision(s: MeanReversion, book: BookTop, v: SnapshotView) -> None:
    full = copy.deepcopy(s)
    full._due = None  # no standing answer: the decision is worked out in full
    assert s.on_event(book, v) == full.on_event(book, v)
    assert _state(s) == _state(full)


@settings(max_examples=300, deadline=None)
@given(
    states(),
    st.lists(st.tuples(st.integers(0, 90), st.integers(-150, 150)), min_size=1, max_size=3),
    st.booleans(),
)
def test_a_book_decided_on_the_standing_answer_is_decided_as_in_full(
    state: tuple, books: list[tuple[int, int]], stamped: bool
) -> None:
    """Books one after another (a decision that acts moves a throttle: the view, here, does
    not change with it, so only the throttles tell the answer is stale)."""
    s, v, now = state
    v = _stamped(v) if stamped else v
    s.next_due(now, v)  # the standing answer
    for later_s, move in books:
        now += later_s * S
        bid = v.books["XLM/USD"].bids[0].price + D(move) / 10_000
        book = top(str(bid), str(bid + D("0.0010")), now)
        _same_decision(s, book, replace(v, books={"XLM/USD": book}))


@settings(max_examples=200, deadline=None)
@given(
    states(),
    st.integers(0, 90),
    st.integers(-20, 20),
    st.sampled_from(["gone", "new"]),
    st.booleans(),
)
def test_orders_changed_behind_the_answer_are_seen(
    state: tuple, later_s: int, move: int, change: str, stamped: bool
) -> None:
    s, v, now = state
    v = _stamped(v) if stamped else v
    s.next_due(now, v)
    then = now + later_s * S
    bid = v.books["XLM/USD"].bids[0].price + D(move) / 10_000
    book = top(str(bid), str(bid + D("0.0010")), then)
    working: tuple[WorkingOrder, ...] = tuple(v.working)
    if change == "gone" and working:
        working = working[1:]
    else:  # an exit appeared (flat: a leftover the strategy cancels)
        working = (*working, replace(tp_order(), cl_ord_id="kbother00000000001", created_ns=now))
    _same_decision(s, book, replace(v, books={"XLM/USD": book}, working=working))
