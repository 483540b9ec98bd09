from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from tests.instruments import XLM
from tests.strategy_view import SnapshotView

from krakenbot.domain.commands import CancelIntent, OrderIntent
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop, PriceLevel, ReconcileRequested, TimerTick
from krakenbot.domain.working import WorkingOrder
from krakenbot.errors import ConfigError
from krakenbot.strategy.mean_reversion import MeanReversion, MeanReversionParams

S = 1_000_000_000
T0 = 1_763_776_800 * S
PARAMS = MeanReversionParams(
    symbol="XLM/USD",
    trade_usd=D("10"),
    ema_halflife_s=60.0,
    warmup_s=10.0,
    min_samples=5,
    entry_z=2.0,
    entry_timeout_s=60.0,
    take_profit_pct=D("1.0"),
    stop_loss_pct=D("1.5"),
    max_hold_s=3600.0,
    cooldown_s=30.0,
    exit_retry_s=5.0,
)


def top(bid: str, ask: str, at: int, verified: bool = True, symbol: str = "XLM/USD") -> BookTop:
    return BookTop(
        symbol=symbol,
        bids=(PriceLevel(D(bid), D("5000")),),
        asks=(PriceLevel(D(ask), D("5000")),),
        verified=verified,
        exchange_ns=at,
        recv_ns=at,
    )


def view(book: BookTop, **kw: object) -> SnapshotView:
    base = SnapshotView(books={"XLM/USD": book}, instruments={"XLM/USD": XLM})
    return replace(base, **kw)  # type: ignore[arg-type]


def warmed(strategy: MeanReversion | None = None, n: int = 20) -> tuple[MeanReversion, int]:
    """Feed n seconds of a mid oscillating 0.2500/0.2510; returns the strategy and the time."""
    s = strategy or MeanReversion(PARAMS)
    t = T0
    for k in range(n):
        bid, ask = ("0.2495", "0.2505") if k % 2 == 0 else ("0.2505", "0.2515")
        b = top(bid, ask, t)
        assert s.on_event(b, view(b)) == []
        t += S
    return s, t


def entry_order(created: int, **kw: object) -> WorkingOrder:
    w = WorkingOrder(
        cl_ord_id="kbentry00000000001",
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        remaining_qty=D("40"),
        limit_price=D("0.245"),
        tag="entry",
        created_ns=created,
        post_only=True,
    )
    return replace(w, **kw)  # type: ignore[arg-type]


def tp_order(**kw: object) -> WorkingOrder:
    w = WorkingOrder(
        cl_ord_id="kbtakeprofit000001",
        symbol="XLM/USD",
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        remaining_qty=D("40"),
        limit_price=D("0.252"),
        reduces_position=True,
        tag="take_profit",
        post_only=True,
    )
    return replace(w, **kw)  # type: ignore[arg-type]


def test_no_entry_before_warm_up() -> None:
    s, t = warmed(n=3)
    drop = top("0.2400", "0.2402", t)
    assert s.on_event(drop, view(drop)) == []


def test_entry_on_drop_is_post_only_buy_at_bid_worth_max_trade() -> None:
    s, t = warmed()
    drop = top("0.245000", "0.245200", t)
    [intent] = s.on_event(drop, view(drop))
    assert isinstance(intent, OrderIntent)
    assert intent.side is Side.BUY and intent.post_only and intent.tag == "entry"
    assert intent.order_type is OrderType.LIMIT and intent.limit_price == D("0.245")
    assert intent.qty == D("40.81632653")  # 10 / 0.245 rounded down to 8 decimals
    assert intent.qty * intent.limit_price <= D("10")
    assert not intent.reduces_position
    features = dict(intent.features)
    assert float(features["z"]) <= -2.0 and features["bid"] == "0.245000"
    assert {"mid", "ema", "std", "spread", "samples"} <= set(features)


def test_no_entry_without_a_drop_and_cooldown_after_an_attempt() -> None:
    s, t = warmed()
    calm = top("0.2500", "0.2510", t)
    assert s.on_event(calm, view(calm)) == []
    drop = top("0.245000", "0.245200", t + S)
    assert len(s.on_event(drop, view(drop))) == 1
    # denied by the gate (never became a working order): no retry until the cooldown ends
    again = top("0.244000", "0.244200", t + 2 * S)
    assert s.on_event(again, view(again)) == []
    later = top("0.240000", "0.240200", t + 40 * S)
    assert len(s.on_event(later, view(later))) == 1


def test_entry_skipped_below_exchange_minimums() -> None:
    s, t = warmed(MeanReversion(replace(PARAMS, trade_usd=D("2"))))
    drop = top("0.245000", "0.245200", t)
    assert s.on_event(drop, view(drop)) == []  # 8.16 XLM < ordermin 10
    costly = replace(XLM, costmin=D("20"), ordermin=D("1"))
    s2, t2 = warmed()
    drop2 = top("0.245000", "0.245200", t2)
    assert s2.on_event(drop2, view(drop2, instruments={"XLM/USD": costly})) == []


def test_entry_timeout_cancels_once() -> None:
    s, t = warmed()
    book = top("0.2500", "0.2510", t)
    w = entry_order(created=t)
    assert s.on_event(TimerTick(t + 59 * S), view(book, working=(w,))) == []
    out = s.on_event(TimerTick(t + 60 * S), view(book, working=(w,)))
    assert out == [CancelIntent(w.cl_ord_id, "entry_timeout")]
    asked = replace(w, cancel_requested=True)
    assert s.on_event(TimerTick(t + 61 * S), view(book, working=(asked,))) == []


def test_take_profit_waits_for_the_bid_then_exits_at_once() -> None:
    s, t = warmed()
    positions, entries = {"XLM/USD": D("40")}, {"XLM/USD": D("0.245")}
    # Target 0.245 * 1.010 = 0.24745: a bid below it places nothing (no resting sell,
    # which would stand in for the engine's protective stop and hold the position's XLM).
    below = view(top("0.2474", "0.2476", t), positions=positions, entries=entries)
    assert s.on_event(TimerTick(t), below) == []
    v = view(
        top("0.2475", "0.2477", t), positions=positions, entries=entries, opened={"XLM/USD": t}
    )
    [tp] = s.on_event(TimerTick(t + S), v)
    assert isinstance(tp, OrderIntent)
    assert tp.side is Side.SELL and tp.reduces_position and tp.tag == "take_profit"
    assert tp.time_in_force is TimeInForce.IOC and not tp.post_only
    assert tp.limit_price == D("0.2475") and tp.qty == D("40")  # at the bid, the whole lot
    # an exit already working: nothing more
    assert s.on_event(TimerTick(t + 10 * S), replace(v, working=(tp_order(),))) == []


def test_take_profit_default_clears_two_taker_fees_and_respects_costmin() -> None:
    assert MeanReversionParams().take_profit_pct > 2 * XLM.taker_fee_pct
    s, t = warmed()
    book = top("0.2600", "0.2610", t)
    v = view(book, positions={"XLM/USD": D("40")}, entries={"XLM/USD": D("0.245")})
    [tp] = s.on_event(TimerTick(t), v)
    assert isinstance(tp, OrderIntent) and tp.limit_price == D("0.2600")
    s2, _ = warmed()
    pricey = replace(XLM, costmin=D("50"))
    v2 = replace(v, instruments={"XLM/USD": pricey})
    assert s2.on_event(TimerTick(t), v2) == []


def test_stop_loss_cancels_take_profit_and_exits_ioc_at_bid() -> None:
    s, t = warmed()
    book = top("0.2410", "0.2412", t)  # 0.245 * 0.985 = 0.241325
    v = view(
        book,
        positions={"XLM/USD": D("40")},
        entries={"XLM/USD": D("0.245")},
        opened={"XLM/USD": t},
        working=(tp_order(),),
    )
    cancel, exit_ = s.on_event(TimerTick(t), v)
    assert cancel == CancelIntent("kbtakeprofit000001", "stop_loss")
    assert isinstance(exit_, OrderIntent)
    assert exit_.time_in_force is TimeInForce.IOC and not exit_.post_only
    assert exit_.limit_price == D("0.2410") and exit_.qty == D("40")
    assert exit_.reduces_position and exit_.tag == "stop_loss"
    # IOC missed, TP already being cancelled: wait exit_retry_s before the next attempt
    v2 = replace(v, working=(tp_order(cancel_requested=True),))
    assert s.on_event(TimerTick(t + 2 * S), v2) == []
    [retry] = s.on_event(TimerTick(t + 5 * S), v2)
    assert isinstance(retry, OrderIntent) and retry.tag == "stop_loss"


def test_stop_loss_waits_for_a_live_exit() -> None:
    s, t = warmed()
    book = top("0.2410", "0.2412", t)
    live_exit = tp_order(cl_ord_id="kbstop000000000001", tag="stop_loss")
    v = view(
        book,
        positions={"XLM/USD": D("40")},
        entries={"XLM/USD": D("0.245")},
        working=(live_exit,),
    )
    assert s.on_event(TimerTick(t), v) == []


def test_time_stop() -> None:
    s, t = warmed()
    book = top("0.2450", "0.2452", t)
    v = view(
        book,
        positions={"XLM/USD": D("40")},
        entries={"XLM/USD": D("0.245")},
        opened={"XLM/USD": t - 3600 * S},
        working=(tp_order(),),
    )
    cancel, exit_ = s.on_event(TimerTick(t), v)
    assert isinstance(cancel, CancelIntent)
    assert isinstance(exit_, OrderIntent) and exit_.tag == "time_stop"


def test_partial_entry_fill_waits_for_the_entry() -> None:
    s, t = warmed()
    book = top("0.2450", "0.2452", t)
    w = entry_order(created=t - 10 * S, remaining_qty=D("20"))
    v = view(book, positions={"XLM/USD": D("20")}, entries={"XLM/USD": D("0.245")}, working=(w,))
    assert s.on_event(TimerTick(t), v) == []
    assert s.on_event(TimerTick(t + 50 * S), v) == [CancelIntent(w.cl_ord_id, "entry_timeout")]


def test_flat_with_leftover_exit_cancels_it_and_dust_counts_as_flat() -> None:
    s, t = warmed()
    book = top("0.2500", "0.2510", t)
    v = view(book, positions={"XLM/USD": D("3")}, working=(tp_order(),))
    assert s.on_event(TimerTick(t), v) == [CancelIntent("kbtakeprofit000001", "flat")]


def test_ignores_what_it_cannot_use() -> None:
    s, t = warmed()
    other = top("1", "2", t, symbol="BTC/USD")
    assert s.on_event(other, view(other)) == []
    unverified = top("0.2", "0.21", t, verified=False)
    assert s.on_event(unverified, view(unverified)) == []
    assert s.on_event(TimerTick(t), SnapshotView()) == []
    one_sided = replace(top("0.25", "0.26", t), asks=())
    assert s.on_event(one_sided, view(one_sided)) == []
    assert s.on_event(TimerTick(t), view(replace(top("0.25", "0.26", t), verified=False))) == []
    assert s.on_event(ReconcileRequested("gap"), view(top("0.25", "0.26", t))) == []
    assert s.symbols == frozenset({"XLM/USD"}) and s.name == "mean_reversion"


def test_params_parse_from_text() -> None:
    p = MeanReversionParams.parse(
        {"symbol": "BTC/USD", "trade_usd": "10.5", "min_samples": "7", "entry_z": "1.5"}
    )
    assert p.trade_usd == D("10.5") and p.min_samples == 7 and p.entry_z == 1.5
    assert MeanReversion.from_params({}).params == MeanReversionParams()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"bogus": "1"}, "unknown parameter"),
        ({"trade_usd": "ten"}, "not a number"),
        ({"trade_usd": "NaN"}, "not a number"),
        ({"entry_z": "inf"}, "not a number"),
        ({"min_samples": "1.5"}, "not a number"),
        ({"trade_usd": "0"}, "must be > 0"),
        ({"cooldown_s": "-1"}, "must be >= 0"),
        ({"stop_loss_pct": "100"}, "< 100"),
        ({"symbol": "XLMUSD"}, "BASE/QUOTE"),
    ],
)
def test_params_validation(params: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MeanReversionParams.parse(params)
