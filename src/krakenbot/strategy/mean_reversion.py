"""The built-in `mean_reversion` strategy: one small long position on one liquid pair.

Owns: `MeanReversionParams` (validated from settings) and `MeanReversion`. Imports: domain,
errors, strategy. Makes no claim of profitability: it is a simple, inspectable default.

Rules (all prices Decimal; floats only inside the indicator):
* flat, warmed up, and the mid at least `entry_z` standard deviations below its
  exponential average → a post-only limit buy at the best bid worth `trade_usd`
  (MAX_TRADE_SIZE), quantity rounded down to the lot, skipped when below ordermin/costmin;
  the intent carries the features used, for `learning_data`;
* an entry still working after `entry_timeout_s` is cancelled;
* long and the best bid ≥ avg_entry × (1 + take_profit_pct %) → take the profit with an IOC
  limit sell at the bid. Not a resting sell: Kraken holds the base for every open sell, so
  a resting take-profit would stand in for the engine's exchange-side protective stop
  (orders/protection.py) and leave the position without one; an immediate exit takes the
  stop's place only for the moment it executes. It pays the taker fee, so the default
  target (1.0 %) clears a round trip even at two taker fees (2 × 0.40 %, Kraken's lowest
  tier; the usual round trip is a maker entry + a taker exit, 0.25 % + 0.40 %);
* bid ≤ avg_entry × (1 − stop_loss_pct %), or held longer than `max_hold_s` → cancel any
  entry remainder and exit with an IOC limit sell at the bid.
State is re-derived from the view on every decision (position, working orders), so a
restart or a denied intent cannot desynchronize it; the only memory is the indicator and
two throttles that keep a denied intent from being re-sent on every tick.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

from krakenbot.domain.commands import CancelIntent, Intent, OrderIntent
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop, Event, TimerTick
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.working import WorkingOrder
from krakenbot.strategy.base import StrategyView
from krakenbot.strategy.indicators import EwmaStats
from krakenbot.strategy.mean_reversion_params import MeanReversionParams

HUNDRED = Decimal(100)
ZERO = Decimal(0)
_NS = 1_000_000_000
ENTRY, TAKE_PROFIT, STOP_LOSS, TIME_STOP = "entry", "take_profit", "stop_loss", "time_stop"
_EARLY_NS = 1_000  # the warm-up's end is asked about a little early (`age_s` divides floats)
_LOW, _HIGH = Decimal("-Infinity"), Decimal("Infinity")  # a band holding for every bid


_EntryKey = tuple[Decimal | None, int | None, int | None, int | None]


class _Tick(NamedTuple):
    now_ns: int
    instrument: Instrument
    bid: Decimal
    ask: Decimal


class MeanReversion:
    name = "mean_reversion"

    def __init__(self, params: MeanReversionParams | None = None) -> None:
        self.params = params or MeanReversionParams()
        self.stats = EwmaStats(self.params.ema_halflife_s)
        self._last_entry_ns: int | None = None
        self._last_exit_ns: int | None = None
        # Pure functions of the position, asked at every decision, worked out again only
        # when their input changes (a fill): (position, held) and (entry price, stop-loss
        # level, take-profit target).
        self._held: tuple[Decimal, Decimal] | None = None
        self._levels: tuple[Decimal, Decimal, Decimal] | None = None
        # `next_due`'s last answer and what it holds for (worked out only when asked).
        self._due: _Due | None = None
        # The last book and its mid (`_entry_due` scores it: only a book moves the average).
        self._post: tuple[BookTop, float] | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> MeanReversion:
        return cls(MeanReversionParams.parse(params))

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset({self.params.symbol})

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        if isinstance(event, BookTop):
            if event.symbol != self.params.symbol or not event.verified:
                return []
            now = event.recv_ns  # next_due's standing answer: a decision now does nothing
            decision = [] if self._standing(now, view) is not None else self._decide(now, view)
            mid = event.mid
            if mid is not None:
                value = float(mid)
                self.stats.update(value, event.recv_ns)
                self._post = (event, value)
            return decision
        if isinstance(event, TimerTick):
            return self._decide(event.now_ns, view)
        return []

    # ------------------------------------------------------------------ timer ticks
    def next_due(self, now_ns: int, view: StrategyView) -> int | None:
        """When a timer tick could next make this strategy act, no other event coming first
        (strategy/base.py): at or before `now_ns` when it would act now; else the earliest
        time a timeout, the time stop or a throttle's wait runs out (a tick then asks again);
        None when only market data or an order's news can change what it would do. Reads
        only. The answer is kept while the position, our orders, the throttles and the time
        leave it standing and the bid stays inside the band it holds for (the bid moves
        every book; the rest seldom)."""
        found = self._standing(now_ns, view)
        if found is not None:
            return found[0]
        symbol = self.params.symbol
        book = view.book(symbol)
        if book is None or not book.verified or not book.bids or not book.asks:
            return None  # a tick decides nothing without a book: a book comes first
        listed = view.working_orders(symbol)
        position = view.position(symbol)
        entry = self._entry_key(view)
        stamp = getattr(view, "state_version", None)
        due, low, high = self._work_out_due(now_ns, view, book, listed, position)
        self._due = _Due(due, low, high, position, entry, listed, stamp)
        return due

    def _standing(self, now_ns: int, view: StrategyView) -> tuple[int | None] | None:
        """(`next_due`'s last answer,) while it holds at `now_ns` (not yet due, the bid in
        its band, position, entry, throttles and our orders unchanged: a decision now does
        nothing, the answer is never later than the truth); else None. Cheap tests first."""
        m = self._due
        if m is None or (m.due is not None and m.due <= now_ns):
            return None
        symbol = self.params.symbol
        book = view.book(symbol)
        if book is None or not book.verified or not book.bids or not book.asks:
            return None
        if not m.low < book.bids[0].price < m.high:
            return None
        stamp = getattr(view, "state_version", None)  # engine/view.py: nothing changed
        entry = m.entry  # the throttles, compared in place (asked on every book)
        same = entry[2] == self._last_entry_ns and entry[3] == self._last_exit_ns
        if stamp is not None and stamp == m.stamp and same:
            return (m.due,)
        if m.position != view.position(symbol) or m.entry != self._entry_key(view):
            return None
        if not _same(view.working_orders(symbol), m.listed):
            return None
        self._due = m._replace(stamp=stamp)  # the same state under a new stamp
        return (m.due,)

    def _entry_key(self, view: StrategyView) -> _EntryKey:
        """Average entry, when opened, and the two throttles: what the answer holds for."""
        symbol = self.params.symbol
        avg, opened = view.avg_entry(symbol), view.position_opened_ns(symbol)
        return avg, opened, self._last_entry_ns, self._last_exit_ns

    def _work_out_due(
        self,
        now_ns: int,
        view: StrategyView,
        book: BookTop,
        listed: Sequence[WorkingOrder],
        position: Decimal,
    ) -> tuple[int | None, Decimal, Decimal]:
        """(`next_due`, and the band of bids (exclusive) it holds for) — `_decide`'s rules
        read for time: every wait `_decide` tests as `now - since >= wait` ends at `_after`."""
        p = self.params
        instrument = view.instrument(p.symbol)
        bid, ask = book.bids[0].price, book.asks[0].price
        if instrument is None:
            return None, _LOW, _HIGH
        working = [w for w in listed if not w.cancel_requested]
        entries = [w for w in working if w.tag == ENTRY]
        timeouts = [_after(w.created_ns, p.entry_timeout_s) for w in entries]
        memo = self._held
        if memo is not None and memo[0] == position:
            held = memo[1]
        else:
            held = instrument.quantize_qty(max(position, ZERO))
        if held < instrument.ordermin:  # flat (`_manage_flat`)
            if len(entries) < len(working):
                return now_ns, _LOW, _HIGH  # leftover exits to cancel
            if entries:
                return min(timeouts), _LOW, _HIGH
            last = self._last_entry_ns
            if last is not None and not self._may(now_ns, last, p.cooldown_s):
                return _after(last, p.cooldown_s), _LOW, _HIGH
            return self._entry_due(_Tick(now_ns, instrument, bid, ask), book), bid, bid  # no band
        opened, avg = view.position_opened_ns(p.symbol), view.avg_entry(p.symbol)
        stop_level, target = self._exit_levels(avg or bid, instrument)
        hold_end = None if opened is None else _after(opened, p.max_hold_s)
        retry = None if self._last_exit_ns is None else _after(self._last_exit_ns, p.exit_retry_s)
        if bid <= stop_level or (hold_end is not None and hold_end <= now_ns):
            exits_live = [w for w in working if w.tag in (STOP_LOSS, TIME_STOP)]
            if len(exits_live) < len(working):
                return now_ns, bid, bid  # other orders to cancel
            return (None if exits_live else max(now_ns, retry or now_ns)), bid, bid
        high = _HIGH
        due: int | None = None
        if entries:
            due = min(timeouts)
        elif working:
            due = None
        elif retry is not None and retry > now_ns:
            due = retry
        elif bid < target:
            high = target  # no take-profit below the target
        else:
            return (now_ns if held * bid >= instrument.costmin else None), bid, bid
        if hold_end is not None:
            due = hold_end if due is None else min(due, hold_end)
        if not avg:  # the levels come from the bid itself: no band
            return due, bid, bid
        return due, stop_level, high

    def _entry_due(self, tick: _Tick, book: BookTop) -> int | None:
        """When the entry rule (`_entry`) could fire, the book and the average unchanged:
        while warming up, about when the history is long enough (None: samples missing, a
        book must come); then now if it would, else None — at once when the z-score this
        book left (the average moves only with a book) is not low enough."""
        p, stats = self.params, self.stats
        if stats.samples < p.min_samples:
            return None
        if stats.age_s(tick.now_ns) < p.warmup_s:
            return max(tick.now_ns, _after(stats.first_ns, p.warmup_s) - _EARLY_NS)
        post = self._post
        if post is not None and post[0] is book:
            z = stats.zscore(post[1])
            if z is None or z > -p.entry_z:
                return None  # `_entry`'s own test on the same mid and average
        return tick.now_ns if self._entry(tick) is not None else None

    # ------------------------------------------------------------------ decisions
    def _decide(self, now_ns: int, view: StrategyView) -> list[Intent]:
        symbol = self.params.symbol
        book, instrument = view.book(symbol), view.instrument(symbol)
        if book is None or instrument is None or not book.verified:
            return []
        bid, ask = book.best_bid, book.best_ask
        if bid is None or ask is None:
            return []
        working = [w for w in view.working_orders(symbol) if not w.cancel_requested]
        position = view.position(symbol)
        memo = self._held
        if memo is not None and memo[0] == position:
            held = memo[1]
        else:
            held = instrument.quantize_qty(max(position, ZERO))
            self._held = (position, held)
        tick = _Tick(now_ns, instrument, bid, ask)
        if held >= instrument.ordermin:
            return self._manage_long(tick, view, held, working)
        return self._manage_flat(tick, working)

    def _manage_flat(self, tick: _Tick, working: list[WorkingOrder]) -> list[Intent]:
        now_ns = tick.now_ns
        # Leftover exits (position already gone) are cancelled; entries time out.
        intents: list[Intent] = [
            CancelIntent(w.cl_ord_id, "flat") for w in working if w.tag != ENTRY
        ]
        entries = [w for w in working if w.tag == ENTRY]
        intents += self._timeouts(now_ns, entries)
        if entries or not self._may(now_ns, self._last_entry_ns, self.params.cooldown_s):
            return intents
        entry = self._entry(tick)
        if entry is not None:
            self._last_entry_ns = now_ns
            intents.append(entry)
        return intents

    def _manage_long(
        self, tick: _Tick, view: StrategyView, held: Decimal, working: list[WorkingOrder]
    ) -> list[Intent]:
        p = self.params
        now_ns, bid = tick.now_ns, tick.bid
        symbol = p.symbol
        entry_price = view.avg_entry(symbol) or bid
        opened = view.position_opened_ns(symbol)
        stop_level, target = self._exit_levels(entry_price, tick.instrument)
        stop = bid <= stop_level
        timed_out = opened is not None and now_ns - opened >= p.max_hold_s * _NS
        if stop or timed_out:
            tag = STOP_LOSS if stop else TIME_STOP
            exits_live = [w for w in working if w.tag in (STOP_LOSS, TIME_STOP)]
            intents: list[Intent] = [
                CancelIntent(w.cl_ord_id, tag) for w in working if w not in exits_live
            ]
            if not exits_live and self._may(now_ns, self._last_exit_ns, p.exit_retry_s):
                self._last_exit_ns = now_ns
                intents.append(_sell(symbol, held, bid, tag=tag))
            return intents
        entries = [w for w in working if w.tag == ENTRY]
        if entries:  # let the entry finish (fill or time out) before placing the exit
            return list(self._timeouts(now_ns, entries))
        if working or not self._may(now_ns, self._last_exit_ns, p.exit_retry_s):
            return []
        if bid < target or held * bid < tick.instrument.costmin:
            return []
        self._last_exit_ns = now_ns
        return [_sell(symbol, held, bid, tag=TAKE_PROFIT)]

    def _exit_levels(self, entry_price: Decimal, instrument: Instrument) -> tuple[Decimal, Decimal]:
        """(stop-loss level, take-profit target) of a position entered at `entry_price`."""
        memo = self._levels
        if memo is not None and memo[0] == entry_price:
            return memo[1], memo[2]
        p = self.params
        stop_level = entry_price * (1 - p.stop_loss_pct / HUNDRED)
        target = instrument.quantize_price(entry_price * (1 + p.take_profit_pct / HUNDRED), up=True)
        self._levels = (entry_price, stop_level, target)
        return stop_level, target

    def _timeouts(self, now_ns: int, entries: list[WorkingOrder]) -> list[Intent]:
        limit_ns = self.params.entry_timeout_s * _NS
        return [
            CancelIntent(w.cl_ord_id, "entry_timeout")
            for w in entries
            if now_ns - w.created_ns >= limit_ns
        ]

    def _entry(self, tick: _Tick) -> OrderIntent | None:
        p = self.params
        now_ns, instrument, bid, ask = tick.now_ns, tick.instrument, tick.bid, tick.ask
        stats = self.stats
        if stats.samples < p.min_samples or stats.age_s(now_ns) < p.warmup_s:
            return None
        mid = (bid + ask) / 2
        z = stats.zscore(float(mid))
        if z is None or z > -p.entry_z:
            return None
        qty = instrument.quantize_qty(p.trade_usd / bid)
        if qty < instrument.ordermin or qty * bid < instrument.costmin:
            return None
        features = (
            ("mid", str(mid)),
            ("bid", str(bid)),
            ("ask", str(ask)),
            ("spread", str(ask - bid)),
            ("ema", repr(stats.mean)),
            ("std", repr(stats.std)),
            ("z", repr(z)),
            ("samples", str(stats.samples)),
            ("halflife_s", repr(p.ema_halflife_s)),
            ("entry_z", repr(p.entry_z)),
        )
        return OrderIntent(
            symbol=p.symbol,
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            qty=qty,
            limit_price=bid,
            time_in_force=TimeInForce.GTC,
            post_only=True,
            tag=ENTRY,
            features=features,
        )

    @staticmethod
    def _may(now_ns: int, last_ns: int | None, wait_s: float) -> bool:
        return last_ns is None or now_ns - last_ns >= wait_s * _NS


class _Due(NamedTuple):
    """`next_due`'s answer and what it holds for."""

    due: int | None
    low: Decimal  # the bids it holds for: low < bid < high
    high: Decimal
    position: Decimal
    entry: _EntryKey  # avg entry, opened, throttles
    listed: Sequence[WorkingOrder]
    stamp: object  # the view's `state_version` then (None: it has none)


def _after(since_ns: int, wait_s: float) -> int:
    """The first whole ns at which `now - since_ns >= wait_s * 1e9` holds."""
    return since_ns + math.ceil(wait_s * _NS)


def _same(a: Sequence[WorkingOrder], b: Sequence[WorkingOrder]) -> bool:
    if len(a) != len(b):
        return False
    return not a or all(x is y for x, y in zip(a, b, strict=True))


def _sell(symbol: str, qty: Decimal, price: Decimal, *, tag: str) -> OrderIntent:
    """An exit: an IOC limit sell at `price` (the bid), never resting (see the docstring)."""
    return OrderIntent(
        symbol=symbol,
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=qty,
        limit_price=price,
        time_in_force=TimeInForce.IOC,
        reduces_position=True,
        tag=tag,
    )


__all__ = ["MeanReversion", "MeanReversionParams"]
