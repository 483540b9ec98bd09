"""The protective stop: every open long position is covered by one exchange-side stop-loss.

Owns: `PROTECT_TAG`, `ProtectionConfig`, `stop_trigger`, `plan` (positions, instruments and
our live orders → the place / amend / cancel intents that keep one protective stop per
position in step with it), `hold_exits` (a strategy's exit waits until the stop is
cancelled) and `release_exits` (sends the waiting exits once the stop is gone).
Imports: domain. Must not import: I/O, the clock, risk, engine, strategy. Pure and
synchronous: the engine's glue (`engine/protect.py`) keeps the little state and runs the
intents through the risk gate and the order manager like every other order.

Why a standalone Kraken `stop-loss` sell (market on trigger, `trigger=last`) and not a
conditional close: Kraken places a conditional close only once its parent order executes,
it cannot follow partial fills or be amended, and Kraken documents it mainly for margin
positions (docs: rest-api/add-order `close[ordertype]`). A standalone order can be amended in
place as the position grows (AmendOrder: same ids; docs: guides/spot-amends) and is
reconciled after a restart like any order of ours.
Why one resting sell per position: Kraken holds the base asset of every open sell (spot has
no netting), so the stop and an exit cannot both rest for the whole position. An exit first
cancels the stop and is sent once that cancel is confirmed (`hold_exits` / `release_exits`);
the stop covers what the position holds minus what our other live sells already hold.
The trigger is the average entry price × (1 − PROTECTIVE_STOP_PCT / 100), rounded down to
the pair's tick: the strategy's own stop normally acts first, this one is the backstop for
when the daemon is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from krakenbot.domain.commands import AmendIntent, CancelIntent, Intent, OrderIntent
from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import Order

PROTECT_TAG = "protect"
ZERO = Decimal(0)
HUNDRED = Decimal(100)
_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ProtectionConfig:
    stop_pct: Decimal = Decimal("3.0")  # PROTECTIVE_STOP_PCT
    amend_retry_s: float = 10.0  # an amend not reflected by then is sent again


@dataclass(frozen=True, slots=True)
class Target:
    """The protective stop a position needs: sell `qty`, triggered at `trigger`."""

    symbol: str
    qty: Decimal
    trigger: Decimal


def is_protective(order: Order) -> bool:
    return order.tag == PROTECT_TAG


def stop_trigger(avg_entry: Decimal, instrument: Instrument, stop_pct: Decimal) -> Decimal:
    """avg_entry × (1 − stop_pct %), rounded down to the tick (never above the exact value)."""
    return instrument.quantize_price(avg_entry * (1 - stop_pct / HUNDRED))


def target(
    symbol: str,
    *,
    position: Decimal,
    avg_entry: Decimal | None,
    instrument: Instrument,
    live: Sequence[Order],
    stop_pct: Decimal,
) -> Target | None:
    """The stop this position needs, or None (flat, dust, or nothing Kraken would accept).

    Our other live sells of the pair already hold part of the position at Kraken: the stop
    covers only the rest."""
    if avg_entry is None or avg_entry <= 0:
        return None
    held = instrument.quantize_qty(max(position, ZERO))
    others = sum(
        (
            o.remaining_qty
            for o in live
            if o.symbol == symbol and o.side is Side.SELL and not is_protective(o)
        ),
        ZERO,
    )
    qty = instrument.quantize_qty(held - others)
    trigger = stop_trigger(avg_entry, instrument, stop_pct)
    if qty < instrument.ordermin or trigger <= 0 or qty * trigger < instrument.costmin:
        return None
    return Target(symbol, qty, trigger)


def stop_intent(want: Target) -> OrderIntent:
    return OrderIntent(
        symbol=want.symbol,
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        qty=want.qty,
        limit_price=None,
        time_in_force=TimeInForce.GTC,
        reduces_position=True,
        tag=PROTECT_TAG,
        trigger_price=want.trigger,
    )


def plan(
    *,
    positions: Mapping[str, Decimal],
    entries: Mapping[str, Decimal],
    instruments: Mapping[str, Instrument],
    live: Sequence[Order],
    waiting: Iterable[str] = (),
    amends_sent: Mapping[str, int] | None = None,
    paused: Iterable[str] = (),
    now_ns: int = 0,
    config: ProtectionConfig | None = None,
) -> list[Intent]:
    """What to do now so each position has exactly one protective stop of the right size.

    `waiting`: symbols whose exit waits for the stop's cancel (their stops are cancelled).
    `amends_sent`: cl_ord_id → when the last amend left (not repeated within the retry).
    `paused`: symbols where no new stop is placed now (after a refusal, until a retry time);
    a stop already resting is still kept in step."""
    cfg = config or ProtectionConfig()
    sent = amends_sent or {}
    waiting, paused = set(waiting), set(paused)
    stops_of: dict[str, list[Order]] = {}
    for order in sorted(live, key=lambda o: (o.created_ns, o.cl_ord_id)):
        if is_protective(order):
            stops_of.setdefault(order.symbol, []).append(order)
    out: list[Intent] = []
    for symbol in sorted(set(positions) | set(stops_of)):
        stops = stops_of.get(symbol, [])
        active = [o for o in stops if not o.cancel_requested]
        instrument = instruments.get(symbol)
        want = None
        if instrument is not None and symbol not in waiting:
            want = target(
                symbol,
                position=positions.get(symbol, ZERO),
                avg_entry=entries.get(symbol),
                instrument=instrument,
                live=live,
                stop_pct=cfg.stop_pct,
            )
        if want is None:
            reason = "protect: exit waiting" if symbol in waiting else "protect: not needed"
            out += [CancelIntent(o.cl_ord_id, reason) for o in active]
            continue
        if not active:
            # A stop still being cancelled holds the funds: place the new one after it.
            if not stops and symbol not in paused:
                out.append(stop_intent(want))
            continue
        keep = active[0]
        out += [CancelIntent(o.cl_ord_id, "protect: duplicate") for o in active[1:]]
        amend = _amend(keep, want, sent.get(keep.cl_ord_id), now_ns, cfg.amend_retry_s)
        if amend is not None:
            out.append(amend)
    return out


def _amend(
    stop: Order, want: Target, sent_ns: int | None, now_ns: int, retry_s: float
) -> AmendIntent | None:
    if stop.status is OrderStatus.PENDING_NEW or stop.filled_qty > 0:
        return None  # not acknowledged yet, or triggered and executing: leave it
    qty = want.qty if want.qty != stop.qty else None
    trigger = want.trigger if want.trigger != stop.trigger_price else None
    if qty is None and trigger is None:
        return None
    if sent_ns is not None and now_ns - sent_ns < retry_s * _NS:
        return None  # the last amend's report is still on its way
    return AmendIntent(stop.cl_ord_id, qty=qty, trigger_price=trigger, reason="protect: follow")


def _is_exit(intent: Intent) -> bool:
    return (
        isinstance(intent, OrderIntent)
        and intent.side is Side.SELL
        and intent.reduces_position
        and intent.tag != PROTECT_TAG
    )


def hold_exits(
    intents: Sequence[Intent], live: Sequence[Order]
) -> tuple[list[Intent], dict[str, OrderIntent]]:
    """Split intents into what goes now and the exits that must wait for a protective
    stop's cancel (by symbol; the last exit for a symbol wins). The stop's cancel goes now."""
    now: list[Intent] = []
    held: dict[str, OrderIntent] = {}
    cancelling: set[str] = set()
    for intent in intents:
        if not _is_exit(intent):
            now.append(intent)
            continue
        assert isinstance(intent, OrderIntent)
        stops = [o for o in live if o.symbol == intent.symbol and is_protective(o)]
        if not stops:
            now.append(intent)
            continue
        held[intent.symbol] = intent
        for stop in stops:
            if not stop.cancel_requested and stop.cl_ord_id not in cancelling:
                cancelling.add(stop.cl_ord_id)
                now.append(CancelIntent(stop.cl_ord_id, "protect: exit waiting"))
    return now, held


def release_exits(
    waiting: Mapping[str, OrderIntent],
    live: Sequence[Order],
    positions: Mapping[str, Decimal],
    instruments: Mapping[str, Instrument],
) -> tuple[list[OrderIntent], list[str]]:
    """The waiting exits whose protective stop is gone, cut to what is still held, and the
    symbols settled (released or dropped: the stop filled instead, nothing is left)."""
    ready: list[OrderIntent] = []
    settled: list[str] = []
    for symbol, intent in waiting.items():
        if any(o.symbol == symbol and is_protective(o) for o in live):
            continue
        settled.append(symbol)
        instrument = instruments.get(symbol)
        if instrument is None:
            continue
        held = instrument.quantize_qty(max(positions.get(symbol, ZERO), ZERO))
        others = sum(
            (o.remaining_qty for o in live if o.symbol == symbol and o.side is Side.SELL), ZERO
        )
        qty = min(intent.qty, instrument.quantize_qty(held - others))
        if qty >= instrument.ordermin:
            ready.append(replace(intent, qty=qty))
    return ready, settled


__all__ = [
    "PROTECT_TAG",
    "ProtectionConfig",
    "Target",
    "hold_exits",
    "is_protective",
    "plan",
    "release_exits",
    "stop_intent",
    "stop_trigger",
    "target",
]
