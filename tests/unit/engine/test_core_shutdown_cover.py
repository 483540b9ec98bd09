"""EngineCore at shutdown: events in, effects out — the cancels that spare what must rest, and
the protective stop that takes the place of a strategy's exit (engine/cover.py `final`).

Start-up state: a BTC/USD position of 0.005 whose take-profit sell rests at the exchange in
place of the protective stop (test_core.py's `loaded_with_a_long_position`)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from test_core import T0, S, kinds, loaded_with_a_long_position, make_core, reports
from tests.instruments import BTC

from krakenbot.domain.effects import PersistOrder, RecordFill, SendCancel, SendOrder
from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.events import BalanceChange
from krakenbot.domain.order import Order
from krakenbot.engine.cover import counted, funds_guard, holdings
from krakenbot.engine.inputs import (
    CancelOurs,
    Conditions,
    CoverPositions,
    EmergencyStop,
    StopRequested,
    WriteDone,
    WriteFailed,
)
from krakenbot.orders.protection import PROTECT_TAG
from krakenbot.risk.account import AccountBook

# (26000 × 0.005 + 0.1 fee) / 0.005 = 26020 average entry; 3 % below, on the 0.1 tick.
TRIGGER = BTC.quantize_price(D("26020") * D("0.97"))


def test_the_exit_stands_in_for_the_stop_until_its_cancel_is_confirmed() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    assert core.protection.needing(holdings(core)) == ["BTC/USD"]
    assert core.protection.stand_ins(holdings(core)) == [sell.cl_ord_id]
    core.handle(StopRequested("shutdown", T0 + S))
    # The exit still holds the coins: no stop beside it.
    assert core.handle(CoverPositions("shutdown", T0 + S)) == []


def test_a_stop_replaces_the_exit_once_the_venue_no_longer_lists_it() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    core.handle(StopRequested("shutdown", T0 + S))
    core.handle(CancelOurs("shutdown", T0 + S))  # the exit's cancel: the venue confirms it
    effects = core.handle(CoverPositions("shutdown", T0 + 2 * S, frozenset({sell.cl_ord_id})))
    assert kinds(effects) == ["PersistOrder", "Notify", "SendOrder"]
    persist, send = effects[0], effects[-1]
    assert isinstance(persist, PersistOrder) and isinstance(send, SendOrder)
    assert persist.command == send.command and not persist.journal  # the ledger's row first
    stop = send.command
    assert persist.tag == PROTECT_TAG and persist.reduces_position
    assert stop.side is Side.SELL and stop.order_type is OrderType.STOP_LOSS
    assert stop.qty == D("0.005") and stop.trigger_price == TRIGGER
    # A stop now rests: no exit stands in any more, and a second cover asks for nothing.
    assert core.protection.stand_ins(holdings(core)) == []
    assert kinds(core.handle(CoverPositions("shutdown", T0 + 3 * S))) == []


def test_with_the_ledger_failing_only_a_journaled_stop_may_go() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    core.handle(StopRequested("shutdown", T0 + S))
    core.handle(Conditions(ledger_failing=True, breaker_admits=True, now_ns=T0 + S))
    core.handle(CancelOurs("shutdown", T0 + S))  # a cancel is never held back by the ledger
    gone = frozenset({sell.cl_ord_id})
    # Not persisted in the ledger: not sent at all.
    assert core.handle(CoverPositions("shutdown", T0 + 2 * S, gone)) == []
    assert core.ledger_refusals == 1
    effects = core.handle(CoverPositions("shutdown", T0 + 3 * S, gone, journal=True))
    assert kinds(effects) == ["PersistOrder", "Notify", "SendOrder"]
    persist = effects[0]
    assert isinstance(persist, PersistOrder) and persist.journal and persist.tag == PROTECT_TAG


def test_the_shutdowns_cancels_spare_the_stops_and_what_they_are_told_to() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    core.handle(StopRequested("shutdown", T0 + S))
    spared = core.handle(CancelOurs("shutdown", T0 + S, frozenset({sell.cl_ord_id})))
    assert not [e for e in spared if isinstance(e, SendCancel)]
    cancels = core.handle(CancelOurs("shutdown", T0 + 2 * S))
    assert [e.command.cl_ord_id for e in cancels if isinstance(e, SendCancel)] == [sell.cl_ord_id]
    effects = core.handle(CoverPositions("shutdown", T0 + 3 * S, frozenset({sell.cl_ord_id})))
    [stop] = [e.command for e in effects if isinstance(e, SendOrder)]
    # The protective stop is never cancelled by the shutdown.
    again = core.handle(CancelOurs("shutdown", T0 + 40 * S))
    assert stop.cl_ord_id not in {e.command.cl_ord_id for e in again if isinstance(e, SendCancel)}


def test_after_an_emergency_stop_no_stop_is_placed() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    core.handle(EmergencyStop("operator", T0 + S))  # cancels the exit too
    effects = core.handle(CoverPositions("shutdown", T0 + 2 * S, frozenset({sell.cl_ord_id})))
    assert [e for e in effects if isinstance(e, PersistOrder | SendOrder)] == []
    assert core.protection.needing(holdings(core)) == ["BTC/USD"]  # held, yet no stop wanted


def test_a_fill_the_failing_ledger_could_not_record_still_sizes_the_stop() -> None:
    """The exit sells the whole position while the ledger fails: the fill's row cannot be
    written, so the ledger still says 0.005 — but nothing is held any more, and a stop for
    0.005 would be refused by Kraken (and would have been, the old way, reported bare)."""
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    *_, trade = reports("ws_executions_lifecycle_pending_new_trade__docs.json", T0)
    (record,) = core.handle(trade)
    assert isinstance(record, RecordFill)
    core.handle(WriteFailed(record, "OperationalError('database is locked')", T0))
    assert core.portfolio.position("BTC/USD") == D("0.005")  # the ledger's figure, unchanged
    assert counted(core).position("BTC/USD") == 0  # what the daemon saw
    core.handle(StopRequested("shutdown", T0 + S))
    gone = frozenset({sell.cl_ord_id})
    assert core.handle(CoverPositions("shutdown", T0 + 2 * S, gone, journal=True)) == []
    assert core.protection.needing(holdings(core, seen=True)) == []
    # Recorded after all (the same report again, or reconciliation): counted once.
    (again,) = core.handle(trade)
    assert isinstance(again, RecordFill)
    core.handle(WriteDone(again, True, T0 + 3 * S))
    assert core.settle.unrecorded == {} and counted(core) is core.portfolio
    assert core.portfolio.position("BTC/USD") == 0


def test_a_sale_the_venue_reported_shrinks_the_stop() -> None:
    """The exit sold 0.002 just before its cancel and the core has not recorded the trade
    (only the lookup of the exit told it): the stop covers the 0.003 left, never 0.005."""
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    core.handle(StopRequested("shutdown", T0 + S))
    core.handle(CancelOurs("shutdown", T0 + S))
    gone = frozenset({sell.cl_ord_id})
    sold = (("BTC/USD", D("0.002")),)
    effects = core.handle(CoverPositions("shutdown", T0 + 2 * S, gone, sold=sold))
    [stop] = [e.command for e in effects if isinstance(e, SendOrder)]
    assert stop.order_type is OrderType.STOP_LOSS and stop.qty == D("0.003")
    assert core.portfolio.position("BTC/USD") == D("0.005")  # the ledger's figure, unchanged


def test_an_exit_that_sold_everything_leaves_no_stop_to_place() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    core.handle(StopRequested("shutdown", T0 + S))
    core.handle(CancelOurs("shutdown", T0 + S))
    gone, sold = frozenset({sell.cl_ord_id}), (("BTC/USD", D("0.005")),)
    assert core.handle(CoverPositions("shutdown", T0 + 2 * S, gone, sold=sold)) == []


def test_krakens_funds_check_guards_a_stop_only_when_no_other_coins_are_held() -> None:
    """A stop of the size the core knows goes out before any lookup only where Kraken would
    refuse it if it were too big: the account holds no more of the coin than the position,
    and no buy of ours on the pair could have filled unseen (a larger position)."""
    core, _ = make_core()
    loaded_with_a_long_position(core)
    h = holdings(core, seen=True)
    assert funds_guard(core, h, ["BTC/USD"])  # 0.005 held, all of it the position
    assert not funds_guard(core, h, ["XLM/USD"])  # no position there
    assert not funds_guard(core, h, ["ETH/USD"])  # no such instrument
    buy = Order("kbbuy", "BTC/USD", Side.BUY, OrderType.LIMIT, D("0.001"), D("25000"), T0)
    assert not funds_guard(core, replace(h, live=[*h.live, buy]), ["BTC/USD"])
    core.account.on_balance(BalanceChange("BTC", D("0.007"), None, True, T0 + S))
    assert not funds_guard(core, h, ["BTC/USD"])  # 0.002 BTC of the account's own
    core.account.on_balance(BalanceChange("BTC", D("0.005"), None, True, T0 + 2 * S))
    assert funds_guard(core, h, ["BTC/USD"])


def test_no_balance_reported_no_guard() -> None:
    core, _ = make_core()
    loaded_with_a_long_position(core)
    h = holdings(core, seen=True)
    core.account = AccountBook({"USD": D("1000")})  # Kraken has not reported BTC
    assert not funds_guard(core, h, ["BTC/USD"])
