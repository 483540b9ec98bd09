"""The protective-stop planner (orders/protection.py): positions and orders in, intents out."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from tests.instruments import XLM

from krakenbot.domain.commands import AmendIntent, CancelIntent, OrderIntent
from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.order import Order
from krakenbot.orders.protection import (
    PROTECT_TAG,
    ProtectionConfig,
    hold_exits,
    plan,
    release_exits,
    stop_trigger,
)

S = 1_000_000_000
T0 = 1_763_776_800 * S
SYM = "XLM/USD"
INSTRUMENTS = {SYM: XLM}


def stop(qty: str = "40", trigger: str = "0.291000", cl: str = "kbstop1", **kw: object) -> Order:
    order = Order(
        cl_ord_id=cl,
        symbol=SYM,
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        qty=D(qty),
        limit_price=None,
        created_ns=T0,
        reduces_position=True,
        tag=PROTECT_TAG,
        status=OrderStatus.OPEN,
        order_id=f"O{cl}",
        trigger_price=D(trigger),
    )
    return replace(order, **kw)  # type: ignore[arg-type]


def sell(qty: str, tag: str = "take_profit", **kw: object) -> Order:
    order = Order(
        cl_ord_id=f"kb{tag}",
        symbol=SYM,
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        limit_price=D("0.31"),
        created_ns=T0,
        reduces_position=True,
        tag=tag,
        status=OrderStatus.OPEN,
    )
    return replace(order, **kw)  # type: ignore[arg-type]


def exit_intent(qty: str = "40", tag: str = "stop_loss") -> OrderIntent:
    return OrderIntent(
        symbol=SYM,
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        limit_price=D("0.2900"),
        time_in_force=TimeInForce.IOC,
        reduces_position=True,
        tag=tag,
    )


def plan_for(
    position: str, entry: str = "0.300000", live: tuple[Order, ...] = (), **kw: object
) -> list[object]:
    return list(
        plan(
            positions={SYM: D(position)},
            entries={SYM: D(entry)},
            instruments=INSTRUMENTS,
            live=live,
            **kw,  # type: ignore[arg-type]
        )
    )


def test_trigger_is_the_percentage_below_the_average_entry_rounded_down_to_the_tick() -> None:
    assert stop_trigger(D("0.300000"), XLM, D("3")) == D("0.291000")
    assert stop_trigger(D("0.2891076"), XLM, D("3")) == D("0.280434")  # 0.28043437 ↓ tick
    assert stop_trigger(D("0.3"), XLM, D("0.5")) == D("0.298500")


def test_a_new_position_gets_one_stop_loss_sell_for_all_of_it() -> None:
    [intent] = plan_for("40")
    assert intent == OrderIntent(
        symbol=SYM,
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        qty=D("40"),
        limit_price=None,
        time_in_force=TimeInForce.GTC,
        reduces_position=True,
        tag=PROTECT_TAG,
        trigger_price=D("0.291000"),
    )
    # PROTECTIVE_STOP_PCT comes from the configuration
    [wider] = plan_for("40", config=ProtectionConfig(stop_pct=D("10")))
    assert isinstance(wider, OrderIntent) and wider.trigger_price == D("0.270000")


def test_flat_dust_or_unknown_entry_needs_no_stop() -> None:
    assert plan_for("0") == []
    assert plan_for("9.99999999") == []  # below ordermin (10 XLM): Kraken would refuse it
    assert plan(positions={SYM: D("40")}, entries={}, instruments=INSTRUMENTS, live=()) == []
    assert plan_for("40", entry="0.000010") == []  # 40 × trigger below costmin (0.5 USD)
    assert plan_for("-40") == []  # spot: never short, nothing to protect
    assert plan(positions={"ETH/USD": D("1")}, entries={"ETH/USD": D("3000")},
                instruments=INSTRUMENTS, live=()) == []  # fmt: skip


def test_a_position_that_grows_amends_quantity_and_trigger_in_place() -> None:
    # A second entry fill: 40 → 70 XLM, the average entry moved from 0.30 to 0.29.
    [amend] = plan_for("70", entry="0.290000", live=(stop("40", "0.291000"),))
    assert amend == AmendIntent(
        "kbstop1", qty=D("70"), trigger_price=D("0.281300"), reason="protect: follow"
    )
    # Only what changed is sent.
    [qty_only] = plan_for("70", entry="0.300000", live=(stop("40", "0.291000"),))
    assert qty_only == AmendIntent("kbstop1", qty=D("70"), reason="protect: follow")


def test_a_position_that_shrinks_amends_down_and_a_closed_one_cancels_the_stop() -> None:
    [amend] = plan_for("25", live=(stop("40"),))
    assert amend == AmendIntent("kbstop1", qty=D("25"), reason="protect: follow")
    assert plan_for("0", live=(stop("40"),)) == [CancelIntent("kbstop1", "protect: not needed")]
    # already being cancelled: nothing more to say
    assert plan_for("0", live=(stop("40", cancel_requested=True),)) == []


def test_restart_with_the_stop_already_resting_places_no_second_one() -> None:
    # The ledger's (or the adopted) stop is live and right: nothing to do.
    assert plan_for("40", live=(stop("40"),)) == []
    # Two stops for one position (e.g. adopted after a lost ledger): keep the oldest.
    older, newer = stop("40", cl="kbstop1"), stop("40", cl="kbstop2", created_ns=T0 + S)
    assert plan_for("40", live=(newer, older)) == [CancelIntent("kbstop2", "protect: duplicate")]


def test_no_amend_before_the_ack_nor_while_triggered_nor_twice_within_the_retry() -> None:
    pending = stop("40", status=OrderStatus.PENDING_NEW, order_id=None)
    assert plan_for("70", live=(pending,)) == []  # not acknowledged yet: nothing placed twice
    executing = stop("40", status=OrderStatus.PARTIALLY_FILLED, filled_qty=D("10"))
    assert plan_for("30", live=(executing,)) == []  # triggered: it is selling, leave it
    sent = {"kbstop1": T0}
    assert plan_for("70", live=(stop("40"),), amends_sent=sent, now_ns=T0 + 9 * S) == []
    [again] = plan_for("70", live=(stop("40"),), amends_sent=sent, now_ns=T0 + 10 * S)
    assert isinstance(again, AmendIntent) and again.qty == D("70")


def test_the_stop_covers_only_what_other_sells_of_ours_do_not_hold() -> None:
    # An IOC exit for 30 is in flight: Kraken holds those 30 XLM; the stop covers 10.
    [amend] = plan_for("40", live=(stop("40"), sell("30", tag="stop_loss")))
    assert amend == AmendIntent("kbstop1", qty=D("10"), reason="protect: follow")
    # The exit holds everything: no stop (and the live one goes).
    cancels = plan_for("40", live=(stop("40"), sell("40")))
    assert cancels == [CancelIntent("kbstop1", "protect: not needed")]


def test_a_stop_still_being_cancelled_holds_the_funds_so_no_new_one_yet() -> None:
    cancelling = stop("40", cancel_requested=True)
    assert plan_for("40", live=(cancelling,)) == []


def test_a_waiting_exit_cancels_the_stop_and_a_paused_pair_places_none() -> None:
    assert plan_for("40", live=(stop("40"),), waiting={SYM}) == [
        CancelIntent("kbstop1", "protect: exit waiting")
    ]
    assert plan_for("40", waiting={SYM}) == []
    assert plan_for("40", paused={SYM}) == []  # a refused stop waits for its retry time
    # ... but a resting stop is still kept in step while paused
    [amend] = plan_for("70", live=(stop("40"),), paused={SYM})
    assert isinstance(amend, AmendIntent)


def test_an_exit_waits_for_the_protective_stops_cancel() -> None:
    tp = exit_intent(tag="take_profit")
    now, held = hold_exits([tp], [stop("40")])
    assert now == [CancelIntent("kbstop1", "protect: exit waiting")]
    assert held == {SYM: tp}
    # The stop already being cancelled: the exit still waits, no second cancel.
    now, held = hold_exits([tp], [stop("40", cancel_requested=True)])
    assert now == [] and held == {SYM: tp}
    # No stop: the exit goes at once; entries, cancels and the stop itself are never held.
    entry = replace(tp, side=Side.BUY, reduces_position=False, tag="entry")
    cancel = CancelIntent("kbx", "why")
    now, held = hold_exits([tp], [])
    assert now == [tp] and held == {}
    now, held = hold_exits([entry, cancel], [stop("40")])
    assert now == [entry, cancel] and held == {}
    # Two exits in one decision: the later wins, one cancel.
    later = exit_intent("30")
    now, held = hold_exits([tp, later], [stop("40")])
    assert len(now) == 1 and held == {SYM: later}


def test_a_waiting_exit_is_sent_once_the_stop_is_gone_cut_to_what_is_held() -> None:
    waiting = {SYM: exit_intent("40")}
    ready, settled = release_exits(waiting, [stop("40", cancel_requested=True)], {SYM: D("40")},
                                   INSTRUMENTS)  # fmt: skip
    assert ready == [] and settled == []  # the cancel is not confirmed yet
    ready, settled = release_exits(waiting, [], {SYM: D("40")}, INSTRUMENTS)
    assert ready == [exit_intent("40")] and settled == [SYM]
    # part of it went meanwhile (the stop filled partly before its cancel)
    ready, _ = release_exits(waiting, [], {SYM: D("25")}, INSTRUMENTS)
    assert [r.qty for r in ready] == [D("25")]


def test_if_the_stop_filled_instead_the_waiting_exit_is_dropped() -> None:
    waiting = {SYM: exit_intent("40")}
    ready, settled = release_exits(waiting, [], {SYM: D("0")}, INSTRUMENTS)
    assert ready == [] and settled == [SYM]
    ready, settled = release_exits({"DOGE/USD": exit_intent()}, [], {}, INSTRUMENTS)
    assert ready == [] and settled == ["DOGE/USD"]  # no instrument: nothing to send
