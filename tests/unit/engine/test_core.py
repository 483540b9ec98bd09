"""EngineCore: events in, effects out — no event loop, no clock, no ledger, no venue.

Real frames (tests/data/ws/real_messages) are decoded with the production codec and fed to
the core; the tests read the effects it returns, in order, the way the websockets library's
protocol tests read `data_to_send`. Outcomes of effects (a fill's row written, a write that
failed) are fed back as the runner would."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal as D

from tests.conftest import DATA
from tests.instruments import BTC, XLM

from krakenbot.domain.book import OrderBook
from krakenbot.domain.commands import CancelIntent, Intent, OrderIntent
from krakenbot.domain.effects import (
    AdoptOrder,
    CloseLearningEntry,
    Effect,
    Notify,
    PersistOrder,
    RecordEvent,
    RecordFill,
    RecordMetrics,
    ReportError,
    RequestReconcile,
    SaveState,
    SendCancel,
    SendOrder,
    SetTradingState,
    SwitchNeedChanged,
    TripBreaker,
    UpdateOrder,
)
from krakenbot.domain.enums import (
    Channel,
    ConnectionState,
    ExecType,
    Liquidity,
    NoticeKind,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingState,
)
from krakenbot.domain.events import (
    BookTop,
    ConnectionChanged,
    Event,
    ExecutionReport,
    Fill,
    OrderAccepted,
    PriceLevel,
    ReconcileRequested,
    Ticker,
    TimerTick,
)
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.engine.core import EngineCore
from krakenbot.engine.inputs import (
    Conditions,
    Corrections,
    EmergencyStop,
    LedgerLoaded,
    OpenOrdersListed,
    Reconciled,
    SendFinished,
    StopRequested,
    Submit,
    WriteDone,
    WriteFailed,
)
from krakenbot.kraken.ws_codec import decode
from krakenbot.kraken.ws_messages import BookMessage, SequencedBatch
from krakenbot.orders.corrections import AdoptOrder as Adopt
from krakenbot.orders.corrections import Conflict, ForeignOrder, MissingFill
from krakenbot.risk.account import BalanceSnapshot
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.decision import Rule
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits, RiskLimits
from krakenbot.strategy.base import StrategyView

WS = DATA / "ws" / "real_messages"
S = 1_000_000_000
T0 = 1_695_378_785_000_000_000  # 2023-09-22T10:33:05Z, the docs lifecycle's day
LIMITS = RiskLimits(
    allowed_symbols=frozenset({"BTC/USD", "XLM/USD"}),
    max_trade_usd=D("150"),
    min_order_usd=D("1"),
    max_total_exposure_usd=D("300"),
    max_positions=2,
    max_daily_loss_usd=D("5"),
)


@dataclass
class Scripted:
    """Answers each event with what the test queued; records the positions it saw."""

    name: str = "scripted"
    symbols: frozenset[str] = frozenset({"BTC/USD"})
    queue: list[Intent] = field(default_factory=list)
    positions: list[D] = field(default_factory=list)

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        self.positions.append(view.position("BTC/USD"))
        out, self.queue = self.queue, []
        return out


def make_core(strategy: Scripted | None = None, **limits: object) -> tuple[EngineCore, Scripted]:
    strategy = strategy or Scripted()
    core = EngineCore(
        strategies=(strategy,),
        gate=RiskGate(replace(LIMITS, **limits)),  # type: ignore[arg-type]
        policy=BreakerPolicy(BreakerLimits(price_jump_pct=D("5"))),
        instruments={"BTC/USD": BTC, "XLM/USD": XLM},
        rng=random.Random(1),
        balances={"USD": D("1000"), "BTC": D("0.005")},
        started_ns=T0,
    )
    return core, strategy


def frames(name: str) -> list[str]:
    docs = json.loads((WS / name).read_text())
    return [json.dumps(d) for d in docs] if isinstance(docs, list) else [json.dumps(docs)]


def real_book(recv_ns: int) -> BookTop:
    """The docs' BTC/USD checksum-guide snapshot, decoded and built into a verified top."""
    (msg,) = decode(frames("ws_book_snapshot__docs_checksum_guide_btcusd.json")[0], recv_ns)
    assert isinstance(msg, BookMessage)
    book = OrderBook("BTC/USD")
    book.apply_snapshot(msg.bids, msg.asks, msg.exchange_ns)
    return book.top(10, verified=True, recv_ns=recv_ns)


def reports(name: str, recv_ns: int) -> list[ExecutionReport]:
    found: list[ExecutionReport] = []
    for frame in frames(name):
        for msg in decode(frame, recv_ns):
            assert isinstance(msg, SequencedBatch)
            found += [i for i in msg.items if isinstance(i, ExecutionReport)]
    return found


def acts(effects: Sequence[Effect]) -> list[Effect]:
    """The effects but what the dead man's switch is told (its own test below)."""
    return [e for e in effects if not isinstance(e, SwitchNeedChanged)]


def kinds(effects: Sequence[Effect]) -> list[str]:
    return [type(e).__name__ for e in acts(effects)]


def buy(qty: str, price: str, symbol: str = "BTC/USD") -> OrderIntent:
    return OrderIntent(
        symbol, Side.BUY, OrderType.LIMIT, D(qty), D(price), post_only=True, tag="entry"
    )


# ---------------------------------------------------------------- market data → orders
def test_a_real_book_frame_becomes_an_order_persisted_before_it_is_sent() -> None:
    core, strategy = make_core()
    book = real_book(T0)
    strategy.queue.append(buy("0.001", "45283.5"))
    effects = core.handle(book)
    assert kinds(effects) == ["PersistOrder", "Notify", "SendOrder"]
    persist, _, send = acts(effects)
    assert isinstance(persist, PersistOrder) and isinstance(send, SendOrder)
    assert persist.command == send.command and persist.created_ns == T0  # the frame's time
    assert core.books["BTC/USD"] is book and core.last_market_ns == T0
    (order,) = core.registry.live()
    assert order.cl_ord_id == send.command.cl_ord_id and core.manager.sending == {order.cl_ord_id}
    assert core.counts.orders == 1


def test_an_order_answering_market_data_carries_the_frames_receive_time() -> None:
    """Tick-to-order starts at the frame's receipt; an order that answers anything else
    (an operator's submit, a timer) carries no tick time."""
    core, strategy = make_core()
    strategy.queue.append(buy("0.001", "45283.5"))
    (send,) = [e for e in core.handle(real_book(T0 + 7)) if isinstance(e, SendOrder)]
    assert send.tick_ns == T0 + 7
    effects = core.handle(Submit((buy("0.001", "45283.0"),), T0 + S))
    (submitted,) = [e for e in effects if isinstance(e, SendOrder)]
    assert submitted.tick_ns == 0


def test_denials_are_counted_by_the_rule_that_denied_them() -> None:
    core, _ = make_core()
    core.handle(real_book(T0))
    core.handle(Submit((buy("1", "45283.5"),), T0))  # 45 283 USD > MAX_TRADE_SIZE
    core.handle(Submit((buy("0.001", "45283.5", symbol="ETH/USD"),), T0))
    core.handle(Submit((buy("2", "45283.5"),), T0))
    assert core.manager.denials_by_rule == {Rule.MAX_TRADE_SIZE: 2, Rule.UNKNOWN_INSTRUMENT: 1}
    assert core.manager.denials == 3


def test_reconnects_are_counted_per_channel() -> None:
    core, _ = make_core()
    for channel, times in ((Channel.PUBLIC, 3), (Channel.PRIVATE, 2)):
        for _ in range(times):
            core.handle(ConnectionChanged(channel, ConnectionState.CONNECTED, "", T0))
            core.handle(ConnectionChanged(channel, ConnectionState.RECONNECTING, "x", T0))
    assert core.reconnects == {Channel.PUBLIC: 2, Channel.PRIVATE: 1}  # the first: a connect


def test_a_halt_and_the_daily_loss_halt_are_notices_for_the_operator() -> None:
    core, _ = make_core()
    effects = core.handle(EmergencyStop("operator", T0))
    (halt,) = [e for e in effects if isinstance(e, Notify)]
    assert halt.notice is NoticeKind.RISK_HALT and "operator" in halt.fields["reason"]
    out: list[Effect] = []
    core.gate.loss_halted_day = date(2023, 9, 22)
    core.loss_halt_persist("daily PnL -6", out)
    (loss,) = [e for e in out if isinstance(e, Notify)]
    assert loss.notice is NoticeKind.DAILY_LOSS_HALT and loss.fields["day"] == "2023-09-22"


def test_events_without_intents_need_nothing_done() -> None:
    core, strategy = make_core()
    assert core.handle(real_book(T0)) == []
    ticker = Ticker("BTC/USD", ("1",) * 11, T0, T0 + 1)  # not in the table: strategies only
    assert core.handle(ticker) == [] and len(strategy.positions) == 2
    assert core.now_ns == T0 + 1


def test_time_comes_from_the_events_and_never_runs_backwards() -> None:
    core, strategy = make_core()
    core.handle(real_book(T0 + 5 * S))
    strategy.queue.append(buy("0.001", "45283.5"))
    effects = core.handle(Submit(tuple(strategy.queue), T0))  # an older stamp
    strategy.queue.clear()
    persist = effects[0]
    assert isinstance(persist, PersistOrder) and persist.created_ns == T0 + 5 * S
    late = OrderAccepted("kbnone", "OX")  # carries no time: the runner's receive time
    core.handle(late, T0 + 9 * S)
    assert core.now_ns == T0 + 9 * S


def test_a_price_jump_trips_the_breaker_before_the_strategy_decides() -> None:
    core, strategy = make_core()
    core.handle(real_book(T0))
    jumped = real_book(T0 + S)
    jumped = replace(
        jumped, bids=(PriceLevel(D("48000"), D("1")),), asks=(PriceLevel(D("48001"), D("1")),)
    )
    strategy.queue.append(buy("0.001", "48000"))
    effects = core.handle(jumped)
    assert kinds(effects)[:2] == ["TripBreaker", "RecordEvent"]
    assert isinstance(effects[0], TripBreaker) and effects[0].reason.startswith("price_jump")
    denial = [e for e in effects if isinstance(e, RecordEvent) and e.kind == "risk_denied"]
    assert denial and denial[0].payload["rule"] == "breaker_open"
    assert not any(isinstance(e, PersistOrder) for e in effects)


# ---------------------------------------------------------------- the real lifecycle
TXID = "OK4GJX-KSTLS-7DZZO5"  # the docs' pending_new → new → trade lifecycle


def loaded_with_a_long_position(core: EngineCore) -> Order:
    """Start-up: a BTC/USD buy filled earlier, and our resting sell (its txid known)."""
    bought = Fill(
        "TBUY",
        "OBUY",
        "kbentry",
        "BTC/USD",
        Side.BUY,
        D("26000"),
        D("0.005"),
        D("130"),
        D("0.1"),
        "USD",
        Liquidity.MAKER,
        T0 - 60 * S,
    )
    sell = Order(
        "kbsell000000000001",
        "BTC/USD",
        Side.SELL,
        OrderType.LIMIT,
        D("0.005"),
        D("26500"),
        T0 - S,
        reduces_position=True,
        tag="take_profit",
    )
    assert kinds(core.handle(LedgerLoaded((bought,), (sell,), None, None, T0 - S))) == []
    effects = core.handle(OrderAccepted(sell.cl_ord_id, TXID, T0))
    assert kinds(effects) == ["UpdateOrder", "Notify"]
    return sell


def test_a_real_fill_is_trusted_only_once_its_row_is_written() -> None:
    core, strategy = make_core()
    sell = loaded_with_a_long_position(core)
    pending, new, trade = reports("ws_executions_lifecycle_pending_new_trade__docs.json", T0)
    for report in (pending, new):  # the order's row follows, no fill yet
        assert set(kinds(core.handle(report))) <= {"UpdateOrder", "Notify"}
    strategy.positions.clear()
    effects = core.handle(trade)
    assert kinds(effects) == ["RecordFill"]  # nothing else until the row is written
    (record,) = effects
    assert isinstance(record, RecordFill) and record.fill.cl_ord_id == sell.cl_ord_id
    assert record.fill.trade_id == "TGBB7L-HT5LX-J3BZ4A" and record.fill.fee == D("0.3458")
    assert core.portfolio.position("BTC/USD") == D("0.005") and strategy.positions == []
    effects = core.handle(WriteDone(record, True, T0 + 1))
    assert kinds(effects) == ["Notify", "UpdateOrder", "Notify", "Notify", "CloseLearningEntry"]
    update, closed = effects[1], effects[4]
    notices = [(e.notice, e.fields.get("symbol")) for e in effects if isinstance(e, Notify)]
    assert notices == [
        (NoticeKind.FILL, "BTC/USD"),
        (None, None),  # the order's status: the log only
        (NoticeKind.POSITION_CLOSED, "BTC/USD"),
    ]
    position_closed = effects[3]
    assert isinstance(position_closed, Notify) and D(position_closed.fields["pnl"]) == closed.pnl
    assert isinstance(update, UpdateOrder) and update.status is OrderStatus.FILLED
    assert isinstance(closed, CloseLearningEntry) and closed.cl_ord_id == "kbentry"
    assert closed.outcome == "win" and closed.pnl > 0
    # The strategy decided after the fill counted, as it would after an awaited write.
    assert core.portfolio.position("BTC/USD") == 0 and strategy.positions == [D(0)]
    assert core.counts.fills == 1 and core.trips.total == 1


def test_a_fill_whose_row_failed_is_taken_back() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    *_, trade = reports("ws_executions_lifecycle_pending_new_trade__docs.json", T0)
    (record,) = core.handle(trade)
    assert isinstance(record, RecordFill)
    effects = core.handle(WriteFailed(record, "OperationalError('database is locked')", T0))
    assert kinds(effects) == ["ReportError"]
    assert isinstance(effects[0], ReportError) and effects[0].text.startswith("ExecutionReport")
    current = core.registry.get(sell.cl_ord_id)
    assert current is not None and current.filled_qty == 0 and not current.fill_ids
    assert core.portfolio.position("BTC/USD") == D("0.005") and core.ledger_failing
    (again,) = core.handle(trade)  # the same report again (or reconciliation): recorded now
    assert isinstance(again, RecordFill)


def test_an_event_before_the_fill_is_answered_counts_as_a_failed_write() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    *_, trade = reports("ws_executions_lifecycle_pending_new_trade__docs.json", T0)
    (record,) = core.handle(trade)
    effects = core.handle(TimerTick(T0 + S))
    assert "ReportError" in kinds(effects)
    current = core.registry.get(sell.cl_ord_id)
    assert current is not None and not current.fill_ids
    # A late answer breaks the runner's contract: refused, and trading halts (a restart
    # rebuilds the portfolio from the ledger).
    late = core.handle(WriteDone(record, True, T0 + 2 * S))
    assert kinds(late) == ["ReportError", "SetTradingState", "Notify", "RequestReconcile"]
    assert core.portfolio.position("BTC/USD") == D("0.005")


def test_a_real_cancel_ends_an_unfilled_entry_and_its_learning_row() -> None:
    core, _ = make_core()
    frames_ = reports("ws_executions_lifecycle_limit_amend_cancel__real_roq_2026-01-22.json", T0)
    cl = frames_[0].cl_ord_id
    assert cl is not None
    entry = Order(
        cl, "BTC/USD", Side.BUY, OrderType.LIMIT, D("0.0001"), D("80000"), T0, tag="entry"
    )
    core.handle(LedgerLoaded((), (entry,), None, None, T0))
    out: list[Effect] = []
    for report in frames_:
        out += core.handle(report)
    final = core.registry.get(cl)
    assert final is not None and final.status is OrderStatus.CANCELED
    assert set(kinds(out)) == {"UpdateOrder", "Notify", "CloseLearningEntry"}
    assert {e.cl_ord_id for e in out if isinstance(e, UpdateOrder)} == {cl}
    assert [e.outcome for e in out if isinstance(e, CloseLearningEntry)] == ["unfilled_canceled"]


def test_an_impossible_report_halts_trading() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    bad = ExecutionReport(
        ExecType.NEW, "OTHER", sell.cl_ord_id, OrderStatus.OPEN, 1, cum_qty=D("1"), recv_ns=T0
    )
    effects = core.handle(bad)
    assert kinds(effects) == ["ReportError", "SetTradingState", "Notify", "RequestReconcile"]
    state = effects[1]
    assert isinstance(state, SetTradingState) and state.state is TradingState.HALTED
    assert core.trading_state is TradingState.HALTED


def test_an_unknown_report_asks_for_reconciliation_once_per_report() -> None:
    core, _ = make_core()
    stray = ExecutionReport(ExecType.NEW, "OX", "kbstranger", OrderStatus.OPEN, 1, recv_ns=T0)
    effects = core.handle(stray)
    assert kinds(effects) == ["RecordEvent", "RequestReconcile"]
    assert core.handle(replace(stray, is_snapshot=True)) == []  # a snapshot row: no news


# ---------------------------------------------------------------- the ledger and the breaker
def test_while_the_ledger_fails_no_entry_is_even_tried() -> None:
    core, strategy = make_core()
    core.handle(Conditions(True, True, T0))
    strategy.queue.append(buy("0.001", "45283.5"))
    assert core.handle(real_book(T0)) == [] and core.ledger_refusals == 1
    core.handle(Conditions(False, False, T0))  # writable; the breaker refuses entries
    strategy.queue.append(buy("0.001", "45283.5"))
    effects = core.handle(real_book(T0 + S))
    rows = [e for e in effects if isinstance(e, RecordEvent)]
    assert rows[0].payload["rule"] == "breaker_open" and core.manager.denials == 1


def test_an_order_whose_row_failed_is_forgotten() -> None:
    core, strategy = make_core()
    strategy.queue.append(buy("0.001", "45283.5"))
    persist = core.handle(real_book(T0))[0]
    assert isinstance(persist, PersistOrder)
    assert kinds(core.handle(WriteFailed(persist, "locked", T0))) == ["ReportError"]
    assert core.registry.all() == [] and core.manager.sending == set()


# ---------------------------------------------------------------- timers
def test_the_daily_loss_halt_and_the_metrics_come_from_ticks() -> None:
    core, _ = make_core()
    core.handle(real_book(T0))
    lost = Fill(
        "TLOSS",
        "OX",
        "kbx",
        "BTC/USD",
        Side.BUY,
        D("46500"),
        D("0.005"),
        D("232.5"),
        D("0.5"),
        "USD",
        Liquidity.TAKER,
        T0,
    )
    core.handle(LedgerLoaded((lost,), (), None, None, T0))  # bought 6 USD above the mid
    effects = acts(core.handle(TimerTick(T0 + S)))
    assert kinds(effects)[:2] == ["SaveState", "RecordEvent"]
    assert isinstance(effects[0], SaveState) and effects[0].value == "2023-09-22"
    # The position gets its protective stop at the exchange (engine/protect.py).
    protect = [e for e in effects if isinstance(e, PersistOrder)]
    assert [p.tag for p in protect] == ["protect"]
    effects = core.handle(TimerTick(T0 + 61 * S))
    (metrics,) = [e for e in effects if isinstance(e, RecordMetrics)]
    assert metrics.row["balance_usd"] == "1000"
    next_day = core.handle(TimerTick(T0 + 86400 * S))
    assert next_day[0] == SaveState("loss_halted_day", "")


def test_unacknowledged_orders_ask_for_reconciliation() -> None:
    core, strategy = make_core()
    strategy.queue.append(buy("0.001", "45283.5"))
    core.handle(real_book(T0))
    effects = core.handle(TimerTick(T0 + 31 * S))
    asks = [e for e in effects if isinstance(e, RequestReconcile)]
    assert asks and asks[0].reason.startswith("unacknowledged orders kb")


def test_a_fresh_executions_snapshot_asks_for_reconciliation_only_for_unlisted_orders() -> None:
    """What a snapshot of open orders cannot show is an order of ours that closed before
    the stream began (its report went nowhere): only a live order the snapshot does not
    list needs looking up."""
    core, strategy = make_core()
    nothing = ReconcileRequested("executions snapshot", T0, frozenset())
    assert core.handle(nothing) == []  # nothing of ours live
    assert kinds(core.handle(ReconcileRequested("gap", T0))) == ["RequestReconcile"]
    strategy.queue.append(buy("0.001", "45283.5"))
    core.handle(real_book(T0))  # one order of ours, live (no txid yet)
    [order] = core.registry.live()
    assert core.handle(nothing) == [RequestReconcile("executions snapshot")]
    by_cl_ord_id = ReconcileRequested("executions snapshot", T0, frozenset({order.cl_ord_id}))
    assert core.handle(by_cl_ord_id) == []
    core.handle(OrderAccepted(order.cl_ord_id, "OTX1", T0))
    assert core.handle(ReconcileRequested("executions snapshot", T0, frozenset({"OTX1"}))) == []
    assert core.handle(ReconcileRequested("executions snapshot", T0, frozenset({"OTX2"}))) == [
        RequestReconcile("executions snapshot")
    ]


# ---------------------------------------------------------------- reconciliation
def test_a_missing_fill_is_recorded_before_its_correction_row() -> None:
    core, _ = make_core()
    sell = loaded_with_a_long_position(core)
    fill = Fill(
        "TMISS",
        TXID,
        sell.cl_ord_id,
        "BTC/USD",
        Side.SELL,
        D("26600"),
        D("0.005"),
        D("133"),
        D("0.3"),
        "USD",
        Liquidity.MAKER,
        T0,
    )
    conflict = Conflict("kbother", "OY", "local filled, venue open")
    event = Corrections("periodic", (MissingFill(sell.cl_ord_id, fill), conflict), T0)
    effects = core.handle(event)
    assert kinds(effects) == ["RecordFill"]  # the conflict waits for the fill's row
    effects = core.handle(WriteDone(effects[0], True, T0))  # type: ignore[arg-type]
    rows = [e.payload["kind"] for e in effects if isinstance(e, RecordEvent)]
    assert rows == ["missing_fill", "conflict"]
    assert kinds(effects)[-2:] == ["SetTradingState", "Notify"]
    assert core.portfolio.position("BTC/USD") == 0
    core.handle(Reconciled("periodic", BalanceSnapshot({"USD": D("1000")}, 0, T0), T0))
    assert core.counts.reconciles == 1 and core.counts.corrections == 2


def snapshot(order_id: str, cl_ord_id: str | None) -> OrderSnapshot:
    return OrderSnapshot(
        order_id=order_id,
        cl_ord_id=cl_ord_id,
        symbol="BTC/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("0.001"),
        limit_price=D("26000"),
        status=OrderStatus.OPEN,
        filled_qty=D(0),
        filled_cost=D(0),
        fee=D(0),
        opened_ns=T0,
    )


def test_foreign_orders_are_recorded_once_and_their_reports_are_not_unknown() -> None:
    core, _ = make_core()
    foreign = ForeignOrder(snapshot("OHAND", None))
    first = core.handle(Corrections("start-up", (foreign,), T0))
    assert [e.payload["kind"] for e in first if isinstance(e, RecordEvent)] == ["foreign_order"]
    assert core.handle(Corrections("periodic", (foreign,), T0)) == []
    report = ExecutionReport(ExecType.NEW, "OHAND", None, OrderStatus.OPEN, 1, recv_ns=T0)
    assert core.handle(report) == []


def test_a_failed_correction_write_abandons_the_run() -> None:
    core, _ = make_core()
    adopted = Order(
        "kbadopt0000000001",
        "BTC/USD",
        Side.BUY,
        OrderType.LIMIT,
        D("0.001"),
        D("26000"),
        T0,
        status=OrderStatus.OPEN,
        order_id="OADOPT",
    )
    foreign = ForeignOrder(snapshot("OHAND", None))  # never reached: the run stops first
    event = Corrections(
        "start-up", (Adopt(adopted, snapshot("OADOPT", adopted.cl_ord_id)), foreign), T0
    )
    (effect,) = core.handle(event)
    assert isinstance(effect, AdoptOrder) and core.registry.get(adopted.cl_ord_id) is not None
    assert core.handle(WriteFailed(effect, "locked", T0)) == []
    assert core.registry.get(adopted.cl_ord_id) is None
    assert core.settle.take_failure() == "locked" and core.settle.take_failure() == ""


# ---------------------------------------------------------------- operator commands
def test_the_emergency_cancels_ours_in_two_steps_and_stop_ends_new_orders() -> None:
    core, strategy = make_core()
    strategy.queue.append(buy("0.001", "45283.5"))
    core.handle(real_book(T0))
    (order,) = core.registry.live()
    effects = core.handle(EmergencyStop("operator", T0))
    assert kinds(effects) == ["SetTradingState", "Notify", "SendCancel"]
    effects = core.handle(OpenOrdersListed("operator", (), T0))
    assert kinds(effects) == ["FlagCancel", "RecordEvent", "RequestReconcile"]
    core.handle(StopRequested("shutdown", T0))
    strategy.queue.append(buy("0.001", "45283.5"))
    assert core.handle(real_book(T0 + S)) == [] and strategy.queue  # not even asked
    assert core.handle(Submit((buy("0.001", "45283.5"),), T0)) == []  # nor the operator's
    assert core.registry.live() == [core.registry.get(order.cl_ord_id)]


def test_send_outcomes_and_cancels_reach_the_order_manager() -> None:
    core, strategy = make_core(post_only=False)
    strategy.queue.append(replace(buy("0.001", "45283.5"), time_in_force=TimeInForce.GTC))
    send = acts(core.handle(real_book(T0)))[-1]
    assert isinstance(send, SendOrder)
    core.handle(SendFinished(send.command.cl_ord_id, T0))
    assert core.manager.sending == set()
    effects = core.handle(Submit((CancelIntent(send.command.cl_ord_id, "test"),), T0))
    assert kinds(effects) == ["SendCancel", "FlagCancel"]
    assert (
        isinstance(effects[0], SendCancel)
        and effects[0].command.cl_ord_id == send.command.cl_ord_id
    )


# ---------------------------------------------------------------- one instance per pair
def test_market_data_reaches_only_the_instance_trading_its_pair() -> None:
    btc, xlm = Scripted(), Scripted(symbols=frozenset({"XLM/USD"}))
    core = EngineCore(
        strategies=(btc, xlm),
        gate=RiskGate(replace(LIMITS, max_positions=1)),
        policy=BreakerPolicy(BreakerLimits()),
        instruments={"BTC/USD": BTC, "XLM/USD": XLM},
        rng=random.Random(1),
        balances={"USD": D("1000")},
    )
    core.handle(real_book(T0))
    assert (len(btc.positions), len(xlm.positions)) == (1, 0)
    xlm_book = BookTop(
        "XLM/USD",
        (PriceLevel(D("0.289"), D("1000")),),
        (PriceLevel(D("0.291"), D("1000")),),
        True,
        T0,
        T0,
    )
    btc.queue.append(buy("0.001", "45283.5"))
    xlm.queue.append(buy("30", "0.289", symbol="XLM/USD"))
    effects = core.handle(xlm_book)  # XLM's instance decides; BTC's is not even asked
    assert (len(btc.positions), len(xlm.positions)) == (1, 1)
    assert [e.command.symbol for e in effects if isinstance(e, SendOrder)] == ["XLM/USD"]
    effects = core.handle(TimerTick(T0 + S))  # not market data: every instance
    assert (len(btc.positions), len(xlm.positions)) == (2, 2)
    # The one gate, shared limits: BTC's entry meets MAX_POSITIONS with XLM's working.
    denied = [e for e in effects if isinstance(e, RecordEvent) and e.kind == "risk_denied"]
    assert [e.payload["rule"] for e in denied] == ["max_positions"]


def test_the_switch_is_told_what_to_cover_only_when_it_changes() -> None:
    """An entry resting arms the dead man's switch; a position needing its protective stop
    turns it off (it would cancel the stop). Never half-way: not while a fill waits for its
    row (the order filled, the position not yet counted)."""
    core, strategy = make_core()
    strategy.queue.append(buy("0.001", "45283.5"))
    effects = core.handle(real_book(T0))
    assert [e for e in effects if isinstance(e, SwitchNeedChanged)] == [
        SwitchNeedChanged(entry=True, protection=False)
    ]
    assert not [e for e in core.handle(real_book(T0 + 1)) if isinstance(e, SwitchNeedChanged)]
    (order,) = core.registry.live()
    core.handle(OrderAccepted(order.cl_ord_id, "OENTRY", T0))
    fill = Fill(
        "TE",
        "OENTRY",
        order.cl_ord_id,
        "BTC/USD",
        Side.BUY,
        D("45283.5"),
        D("0.001"),
        D("45.2835"),
        D("0.1"),
        "USD",
        Liquidity.MAKER,
        T0,
    )
    report = ExecutionReport(
        ExecType.TRADE,
        "OENTRY",
        order.cl_ord_id,
        OrderStatus.FILLED,
        T0,
        cum_qty=D("0.001"),
        fill=fill,
        recv_ns=T0,
    )
    (record,) = core.handle(report)  # filled, not yet counted: nothing said meanwhile
    assert isinstance(record, RecordFill)
    effects = core.handle(WriteDone(record, True, T0))
    assert [e for e in effects if isinstance(e, SwitchNeedChanged)] == [
        SwitchNeedChanged(entry=False, protection=True)
    ]
    assert [e.tag for e in effects if isinstance(e, PersistOrder)] == ["protect"]
