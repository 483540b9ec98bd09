"""The chaos suite's ledger-vs-exchange audit and locked-out-exit check (benchmarks/chaos)."""

from __future__ import annotations

from decimal import Decimal

from benchmarks.chaos.audit import (
    NS,
    AuditReport,
    Denial,
    ExchangeOrder,
    ExchangeTrade,
    LedgerFill,
    LedgerOrder,
    audit,
    exit_lockouts,
)

D = Decimal


def _pair() -> tuple[list[LedgerOrder], list[LedgerFill], list[ExchangeOrder], list[ExchangeTrade]]:
    """A clean history: an entry filled in two trades, its exit filled, one entry cancelled."""
    ledger_orders = [
        LedgerOrder("kb1", "O1", "buy", "filled", D("10")),
        LedgerOrder("kb2", "O2", "sell", "filled", D("10"), reduces_position=True),
        LedgerOrder("kb3", "O3", "buy", "canceled", D("0")),
    ]
    ledger_fills = [
        LedgerFill("T1", "O1", "buy", D("4")),
        LedgerFill("T2", "O1", "buy", D("6")),
        LedgerFill("T3", "O2", "sell", D("10")),
    ]
    exchange_orders = [
        ExchangeOrder("O1", "kb1", "buy", "closed", D("10")),
        ExchangeOrder("O2", "kb2", "sell", "closed", D("10")),
        ExchangeOrder("O3", "kb3", "buy", "canceled", D("0")),
    ]
    exchange_trades = [
        ExchangeTrade("T1", "O1", "buy", D("4")),
        ExchangeTrade("T2", "O1", "buy", D("6")),
        ExchangeTrade("T3", "O2", "sell", D("10")),
    ]
    return ledger_orders, ledger_fills, exchange_orders, exchange_trades


def test_a_matching_ledger_and_exchange_are_clean() -> None:
    report = audit(*_pair())
    assert report.clean and report.problems() == []
    assert (report.fills, report.orders, report.foreign) == (3, 3, 0)


def test_a_fill_missing_from_the_ledger_is_reported_lost() -> None:
    lo, lf, eo, et = _pair()
    report = audit(lo, [f for f in lf if f.trade_id != "T2"], eo, et)
    assert not report.clean
    assert len(report.lost) == 1 and "T2" in report.lost[0]
    # ... and the order's filled volume no longer adds up either way round.
    assert report.duplicated == () and report.phantom == ()


def test_a_fill_recorded_twice_is_reported_duplicated() -> None:
    lo, lf, eo, et = _pair()
    report = audit(lo, [*lf, LedgerFill("T1", "O1", "buy", D("4"))], eo, et)
    assert any("T1 recorded 2 times" in d for d in report.duplicated)
    assert not report.clean


def test_fills_adding_up_to_more_than_the_exchange_executed_are_duplicated() -> None:
    lo, lf, eo, et = _pair()
    # The same execution under a second trade id: 14 recorded, 10 executed.
    extra = LedgerFill("T9", "O1", "buy", D("4"))
    report = audit(lo, [*lf, extra], eo, [*et, ExchangeTrade("T9", "OX", "buy", D("4"))])
    assert any("fills add up to 14" in d for d in report.duplicated)


def test_a_fill_the_exchange_never_executed_is_a_phantom() -> None:
    lo, lf, eo, et = _pair()
    report = audit(lo, [*lf, LedgerFill("T7", "O3", "buy", D("1"))], eo, et)
    assert len(report.phantom) == 1 and "T7" in report.phantom[0]


def test_an_exchange_order_of_ours_missing_from_the_ledger_is_unknown() -> None:
    lo, lf, eo, et = _pair()
    report = audit(lo[:2], lf, eo, et)
    assert len(report.unknown) == 1 and "kb3" in report.unknown[0]
    moved = [LedgerOrder("kb3", "O99", "buy", "canceled", D("0")), *lo[:2]]
    assert "is O99 in the ledger" in audit(moved, lf, eo, et).unknown[0]


def test_an_order_still_working_after_the_stop_is_orphaned() -> None:
    lo, lf, eo, et = _pair()
    lo = [*lo, LedgerOrder("kb4", "O4", "buy", "canceled", D("0"))]
    eo = [*eo, ExchangeOrder("O4", "kb4", "buy", "open", D("0"))]
    report = audit(lo, lf, eo, et)
    assert len(report.orphaned) == 1 and "O4" in report.orphaned[0]
    assert any("ledger canceled, exchange open" in m for m in report.mismatched)
    # While the daemon runs, a working order is no finding.
    running = audit(
        [*lo[:3], LedgerOrder("kb4", "O4", "buy", "open", D("0"))], lf, eo, et, stopped=False
    )
    assert running.clean


def test_foreign_orders_are_counted_not_audited() -> None:
    lo, lf, eo, et = _pair()
    eo = [*eo, ExchangeOrder("OF", None, "sell", "open", D("0"))]
    eo.append(ExchangeOrder("OG", "manual-1", "buy", "open", D("0")))
    report = audit(lo, lf, eo, et)
    assert report.clean and report.foreign == 2


def test_an_order_of_unknown_fate_is_unresolved_not_a_failure() -> None:
    lo, lf, eo, et = _pair()
    report = audit([*lo, LedgerOrder("kb5", None, "buy", "pending_new", D("0"))], lf, eo, et)
    assert report.clean and len(report.unresolved) == 1
    # Once the exchange lists it, it is not unresolved: the ledger must hold its txid.
    listed = [*eo, ExchangeOrder("O5", "kb5", "buy", "open", D("0"))]
    found = audit([*lo, LedgerOrder("kb5", None, "buy", "pending_new", D("0"))], lf, listed, et)
    assert found.unresolved == () and found.unknown


def test_a_ledger_order_working_but_finished_at_the_exchange_is_mismatched() -> None:
    lo, lf, eo, et = _pair()
    lo[2] = LedgerOrder("kb3", "O3", "buy", "open", D("0"))
    assert audit(lo, lf, eo, et).mismatched == ("kb3: ledger open, exchange canceled",)


def test_figures_name_every_count() -> None:
    assert AuditReport(lost=("x",)).figures().startswith("1 lost, 0 duplicated")


# ---------------------------------------------------------------- locked-out exits


def _denial(t_s: float, rule: str = "breaker_open", side: str = "sell") -> Denial:
    return Denial(int(t_s * NS), side, rule, side == "sell")


def test_exits_refused_longer_than_the_cooldown_are_a_lockout() -> None:
    # Issue 11 item 1: the breaker stayed open 48 s with a 10 s cooldown, 23 sells refused.
    denials = [_denial(100 + 2 * i) for i in range(24)]
    locked, longest = exit_lockouts(denials, [], [0], cooldown_s=10, slack_s=2)
    assert len(locked) == 1 and locked[0].refusals == 24
    assert longest == 46.0 and locked[0].rules == frozenset({"breaker_open"})


def test_a_short_refusal_ended_by_an_exit_is_fine() -> None:
    denials = [_denial(100 + i) for i in range(8)] + [_denial(200 + i) for i in range(8)]
    exits = [int(108.5 * NS), int(208.5 * NS)]
    locked, longest = exit_lockouts(denials, exits, [0], cooldown_s=10, slack_s=2)
    assert locked == [] and longest == 7.0


def test_a_restart_splits_a_stretch_and_entries_do_not_count() -> None:
    denials = [_denial(100 + i) for i in range(8)] + [_denial(109 + i) for i in range(8)]
    denials += [_denial(100 + i, side="buy") for i in range(60)]
    locked, longest = exit_lockouts(denials, [], [int(108.5 * NS)], cooldown_s=10, slack_s=2)
    assert locked == [] and longest == 7.0
    assert len(exit_lockouts(denials, [], [], cooldown_s=10, slack_s=2)[0]) == 1


def test_exits_refused_because_another_exit_covers_the_position_are_not_a_lockout() -> None:
    denials = [_denial(100 + i, rule="not_reducing") for i in range(60)]
    assert exit_lockouts(denials, [], [0], cooldown_s=10, slack_s=2) == ([], 0.0)


# ---------------------------------------------------------------- the protective stop


def _held() -> tuple[list[LedgerOrder], list[LedgerFill], list[ExchangeOrder], list[ExchangeTrade]]:
    """An entry of 10 filled and kept (no exit): the position is held after the stop."""
    return (
        [LedgerOrder("kb1", "O1", "buy", "filled", D("10"))],
        [LedgerFill("T1", "O1", "buy", D("10"))],
        [ExchangeOrder("O1", "kb1", "buy", "closed", D("10"), D("10"))],
        [ExchangeTrade("T1", "O1", "buy", D("10"))],
    )


def _stop(qty: str, status: str = "open") -> tuple[LedgerOrder, ExchangeOrder]:
    ledger_status = "open" if status == "open" else "canceled"
    return (
        LedgerOrder("kb9", "O9", "sell", ledger_status, D("0"), True, tag="protect"),
        ExchangeOrder("O9", "kb9", "sell", status, D("0"), D(qty)),
    )


def test_a_held_position_covered_by_its_protective_stop_is_clean() -> None:
    lo, lf, eo, et = _held()
    row, order = _stop("10")
    report = audit([*lo, row], lf, [*eo, order], et, dust=D("1"))
    assert report.clean and report.orphaned == ()
    assert len(report.protected) == 1


def test_a_held_position_without_a_resting_stop_is_unprotected() -> None:
    lo, lf, eo, et = _held()
    report = audit(lo, lf, eo, et, dust=D("1"))
    assert not report.clean
    assert report.unprotected == ("position 10 held after the stop; protective stops cover 0",)
    row, order = _stop("4")  # a stop for less than the position
    short = audit([*lo, row], lf, [*eo, order], et, dust=D("1"))
    assert short.unprotected and "cover 4" in short.unprotected[0]
    # Dust below the pair's smallest order cannot be covered: no finding.
    assert audit(lo, lf, eo, et, dust=D("20")).clean


def test_a_protective_stop_resting_while_flat_is_orphaned() -> None:
    lo, lf, eo, et = _pair()  # bought 10 and sold 10: flat
    row, order = _stop("10")
    report = audit([*lo, row], lf, [*eo, order], et)
    assert any("protective stop resting while flat" in o for o in report.orphaned)
    assert report.protected and not report.clean
