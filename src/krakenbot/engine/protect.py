"""The engine's protective-stop state: what orders/protection.py decides, remembered.

Owns: `Protection` — the exits waiting for a protective stop's cancel, the amends in flight,
the pairs whose stop could not be placed (`unprotected`, which the risk gate reads to refuse
entries there) and when each may try again, and the emergency exit of an unprotected
position (an IOC sell at the bid, through the gate like every order). Every method is
synchronous and returns intents or takes outcomes; the engine runs the intents through the
gate and the order manager. Imports: domain, orders, risk. Must not import: net, store,
app, the clock (time comes in as `now_ns`).

A protective stop "could not be placed" when the gate denied it, the venue rejected it, or
the exchange cancelled it before it ever rested (Kraken's engine validation, e.g.
insufficient funds, shows as pending → canceled). The pair is then unprotected: no new
entries (rule `unprotected`) and the position is exited; the stop is tried again after
`place_retry_s`. The pair is protected again once a stop rests, or once it is flat.

At shutdown (engine/shutdown_cover.py): `needing` names the positions that need a stop,
`stand_ins` the strategy exits holding a position's coins in place of its stop, and `final`
the stops to place now (only new ones: a resting stop is never cancelled or shrunk then).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from krakenbot.domain.commands import AmendIntent, Intent, OrderIntent
from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import Order
from krakenbot.orders.protection import (
    PROTECT_TAG,
    ProtectionConfig,
    hold_exits,
    is_protective,
    plan,
    release_exits,
    target,
)
from krakenbot.risk.decision import Decision, Denied

ZERO = Decimal(0)
_NS = 1_000_000_000
_NONE: frozenset[str] = frozenset()
UNPROTECTED_EXIT = "unprotected_exit"
_LIVE = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True)
class ProtectionTuning:
    protection: ProtectionConfig = field(default_factory=ProtectionConfig)
    place_retry_s: float = 30.0  # a refused stop is tried again after this
    exit_retry_s: float = 5.0  # between exits of an unprotected position


class SwitchNeed(NamedTuple):
    """What the dead man's switch must respect now (app/deadman.py decides with it)."""

    entry: bool  # a risk-increasing order of ours rests or is in flight
    protection: bool  # a position needs its protective stop (the switch would cancel it)


@dataclass(frozen=True, slots=True)
class Holdings:
    """What the engine holds, as the protection logic reads it."""

    positions: Mapping[str, Decimal]
    entries: Mapping[str, Decimal]  # average entry price per symbol
    instruments: Mapping[str, Instrument]
    books: Mapping[str, BookTop]
    live: Sequence[Order]  # our live orders


@dataclass(slots=True)
class Derived:
    """What engine/cover.py last derived from the positions and live orders, with the
    (portfolio, registry) versions it was derived at, and the portfolio object itself (the
    shutdown's cover briefly swaps in a copy carrying unrecorded fills, whose versions could
    match the real one's)."""

    holdings_key: tuple[int, int] = (-1, -1)
    holdings: Holdings | None = None
    holdings_owner: object = None
    need_key: tuple[int, int] = (-1, -1)
    need_owner: object = None
    need: SwitchNeed | None = None


class Protection:
    def __init__(self, tuning: ProtectionTuning | None = None) -> None:
        self.tuning = tuning or ProtectionTuning()
        self.cache = Derived()
        # False after an emergency stop: every order of ours goes, the stops included.
        self.enabled = True
        self.waiting: dict[str, OrderIntent] = {}  # exits waiting for the stop's cancel
        self.unprotected: dict[str, str] = {}  # symbol → why its stop could not be placed
        self.notes: list[dict[str, str]] = []  # refusals for the audit log (`events`)
        self._amends_sent: dict[str, int] = {}
        self._retry_at: dict[str, int] = {}
        self._exit_at: dict[str, int] = {}
        # The last "nothing to do" of `decide`: (holdings, pauses and amends in flight, its
        # time, the amends then held back by their retry window).
        self._calm: tuple[Holdings, object, int, tuple[int, ...]] | None = None

    # ------------------------------------------------------------------ intents in
    def split(self, intents: Sequence[Intent], live: Sequence[Order]) -> list[Intent]:
        """The intents to run now; a strategy's exit on a pair with a protective stop waits
        for the stop's cancel (which goes now), the latest exit per pair winning."""
        now, held = hold_exits(intents, live)
        self.waiting.update(held)
        return now

    def decide(self, now_ns: int, h: Holdings) -> list[Intent]:
        """Waiting exits whose stop is gone, exits of unprotected positions, then what keeps
        one protective stop per position in step with it."""
        if self.quiet(now_ns, h):
            return []
        if self.waiting or self.unprotected:
            return self._decide(now_ns, h)
        key = self._key(now_ns)
        out = self._decide(now_ns, h)
        self._calm = None
        if not out:
            retry_ns = self.tuning.protection.amend_retry_s * _NS
            held_back = tuple(t for t in self._amends_sent.values() if now_ns - t < retry_ns)
            self._calm = (h, key, now_ns, held_back)
        return out

    def quiet(self, now_ns: int, h: Holdings) -> bool:
        """Whether `decide(now_ns, h)` gives nothing, known without working it out: nothing
        held or working; or, with only the stops to keep in step, the same holdings, pauses
        and amends in flight as at the last "nothing" (the plan depends on the time only
        through an amend held back by its retry window) and no such window closed since."""
        if self.waiting or self.unprotected:
            return False
        if not (h.positions or h.live):
            return True  # nothing held, nothing working: nothing to protect
        calm = self._calm
        if calm is None or calm[0] is not h or now_ns < calm[2] or calm[1] != self._key(now_ns):
            return False
        retry_ns = self.tuning.protection.amend_retry_s * _NS
        return all(now_ns - sent < retry_ns for sent in calm[3])

    def calm_until(self, now_ns: int) -> int | None:
        """A time before which `quiet` keeps its answer, the holdings unchanged (None: no
        such time): the next pause's end, the next held-back amend's retry window closing."""
        ends = [at for at in self._retry_at.values() if at > now_ns]
        retry_ns = int(self.tuning.protection.amend_retry_s * _NS)
        ends += [sent + retry_ns - 1_000 for sent in self._amends_sent.values()]
        return min(ends, default=None)

    def _key(self, now_ns: int) -> object:
        """The pauses and amends in flight at `now_ns` (what the plan depends on besides the
        holdings)."""
        retry_at, amends = self._retry_at, self._amends_sent
        paused = frozenset(s for s, at in retry_at.items() if at > now_ns) if retry_at else _NONE
        return (paused, tuple(amends.items()) if amends else ())

    def _decide(self, now_ns: int, h: Holdings) -> list[Intent]:
        ready, settled = release_exits(self.waiting, h.live, h.positions, h.instruments)
        for symbol in settled:
            del self.waiting[symbol]
        out: list[Intent] = list(ready)
        busy = set(self.waiting) | set(settled)  # their sells decide the funds this round
        for symbol in sorted(self.unprotected):
            exit_ = self._unprotected_exit(symbol, now_ns, h)
            if exit_ is not None:
                out.append(exit_)
                busy.add(symbol)
        paused = {s for s, at in self._retry_at.items() if at > now_ns}
        out += plan(
            positions=h.positions,
            entries=h.entries,
            instruments=h.instruments,
            live=h.live,
            waiting=busy,
            amends_sent=self._amends_sent,
            paused=paused,
            now_ns=now_ns,
            config=self.tuning.protection,
        )
        return out

    def _unprotected_exit(self, symbol: str, now_ns: int, h: Holdings) -> OrderIntent | None:
        instrument = h.instruments.get(symbol)
        held = max(h.positions.get(symbol, ZERO), ZERO)
        if instrument is None or instrument.quantize_qty(held) < instrument.ordermin:
            del self.unprotected[symbol]  # flat (or dust): nothing left to protect
            return None
        if any(o.symbol == symbol and o.side is Side.SELL for o in h.live):
            return None  # a sell of ours is working on it (or holds the funds)
        last = self._exit_at.get(symbol)
        if last is not None and now_ns - last < self.tuning.exit_retry_s * _NS:
            return None
        book = h.books.get(symbol)
        bid = book.best_bid if book is not None else None
        if bid is None:
            return None
        self._exit_at[symbol] = now_ns
        return OrderIntent(
            symbol=symbol,
            side=Side.SELL,
            order_type=OrderType.LIMIT,
            qty=instrument.quantize_qty(held),
            limit_price=bid,
            time_in_force=TimeInForce.IOC,
            reduces_position=True,
            tag=UNPROTECTED_EXIT,
        )

    # ------------------------------------------------------------------ outcomes
    def outcome(self, intent: Intent, decision: Decision, now_ns: int) -> None:
        """What the gate said about an intent the engine ran."""
        denied = isinstance(decision, Denied)
        if isinstance(intent, AmendIntent) and not denied:
            self._amends_sent[intent.cl_ord_id] = now_ns
        elif isinstance(intent, OrderIntent) and intent.tag == PROTECT_TAG and denied:
            assert isinstance(decision, Denied)
            self._refused(intent.symbol, f"risk gate: {decision.reason}", now_ns)

    def observe(self, before: Order, after: Order, now_ns: int) -> None:
        """An order event was applied: note a protective stop resting or refused."""
        if not is_protective(after):
            return
        if after.status in _LIVE:
            self.unprotected.pop(after.symbol, None)
            self._retry_at.pop(after.symbol, None)
        refused = after.status is OrderStatus.REJECTED or (
            before.status is OrderStatus.PENDING_NEW
            and after.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED)
            and not after.cancel_requested
        )
        if refused and not before.is_terminal:
            self._refused(after.symbol, after.reason or str(after.status), now_ns)
        if after.is_terminal:
            self._amends_sent.pop(after.cl_ord_id, None)

    def _refused(self, symbol: str, reason: str, now_ns: int) -> None:
        self.notes.append({"symbol": symbol, "reason": reason, "then": "exit; no entries"})
        self.unprotected[symbol] = reason
        self._retry_at[symbol] = now_ns + int(self.tuning.place_retry_s * _NS)

    # ------------------------------------------------------------------ queries
    def needed(self, h: Holdings) -> bool:
        """Does any position need a protective stop (the dead man's switch must then stay
        off: Kraken's CancelAllOrdersAfter would cancel the stop too)? Counted from the
        position alone: an exit of ours holding it now may be gone a moment later."""
        return bool(self.needing(h))

    def needing(self, h: Holdings) -> list[str]:
        """The symbols whose position needs a protective stop (from the position alone,
        whatever our live orders hold)."""
        stop_pct = self.tuning.protection.stop_pct
        found: list[str] = []
        for symbol, qty in sorted(h.positions.items()):
            instrument = h.instruments.get(symbol)
            if instrument is None:
                continue
            want = target(
                symbol,
                position=qty,
                avg_entry=h.entries.get(symbol),
                instrument=instrument,
                live=(),
                stop_pct=stop_pct,
            )
            if want is not None:
                found.append(symbol)
        return found

    # ------------------------------------------------------------------ shutdown
    def stand_ins(self, h: Holdings) -> list[str]:
        """Our live sells (the strategy's exits) that hold a position's coins in place of
        its protective stop: on a pair that needs a stop and has none live. A shutdown
        cancels them only once the stop can be recorded (engine/shutdown.py)."""
        guarded = {o.symbol for o in h.live if is_protective(o) and not o.cancel_requested}
        bare = set(self.needing(h)) - guarded
        return sorted(
            o.cl_ord_id
            for o in h.live
            if o.symbol in bare and o.side is Side.SELL and not is_protective(o)
        )

    def final(self, now_ns: int, h: Holdings) -> list[Intent]:
        """Shutdown: a protective stop for each position that has none. The exits that
        waited for a stop's cancel will never be sent (the engine is stopping), a pause
        after a refusal is not waited out (this is the last chance), and no exit of an
        unprotected position is tried. Only new stops: the shutdown never cancels or
        shrinks a stop that rests (a sell it cannot see gone yet would make it look too
        big), it only adds protection."""
        self.waiting.clear()
        wanted = plan(
            positions=h.positions,
            entries=h.entries,
            instruments=h.instruments,
            live=h.live,
            now_ns=now_ns,
            config=self.tuning.protection,
        )
        return [i for i in wanted if isinstance(i, OrderIntent)]


def entry_live(live: Sequence[Order]) -> bool:
    """Does a risk-increasing order of ours rest or fly (the switch must then be armed)?"""
    return any(not o.reduces_position for o in live)


__all__ = [
    "UNPROTECTED_EXIT",
    "Holdings",
    "Protection",
    "ProtectionTuning",
    "SwitchNeed",
    "entry_live",
]
