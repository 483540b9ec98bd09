"""Risk gate invariants: for any sequence of intents, prices, fills and clock moves, no
approved order breaks a limit, and exposure including open orders never exceeds
MAX_TOTAL_EXPOSURE at the moment anything is approved."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.domain.commands import CancelIntent, OrderIntent
from krakenbot.domain.enums import OrderType, Side, SystemState, TimeInForce, TradingState
from krakenbot.domain.events import BookTop, PriceLevel
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.working import WorkingOrder
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Approved
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import RiskLimits

S = 1_000_000_000
START = 1_763_776_800_000_000_000
SYMBOLS = ("AAA/USD", "BBB/USD", "CCC/USD")
INSTRUMENTS = {
    s: Instrument(
        symbol=s,
        rest_id=s.replace("/", ""),
        altname=s.replace("/", ""),
        wsname=s,
        base=s[:3],
        quote="USD",
        price_decimals=4,
        lot_decimals=2,
        cost_decimals=5,
        tick_size=D("0.0001"),
        ordermin=D("1"),
        costmin=D("0.5"),
    )
    for s in SYMBOLS
}
LIMITS = RiskLimits(
    allowed_symbols=frozenset(SYMBOLS[:2]),
    max_trade_usd=D("10"),
    min_order_usd=D("2"),
    max_total_exposure_usd=D("25"),
    max_positions=2,
    max_daily_loss_usd=D("3"),
    post_only=True,
    price_band_pct=D("2"),
    max_book_age_s=5.0,
    max_orders_per_window=4,
    order_window_s=30.0,
)


@dataclass
class World:
    now: int = START
    mids: dict[str, D] = field(default_factory=lambda: dict.fromkeys(SYMBOLS, D("1")))
    book_ns: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SYMBOLS, START))
    positions: dict[str, D] = field(default_factory=dict)
    working: list[WorkingOrder] = field(default_factory=list)
    balances: dict[str, D] = field(default_factory=lambda: {"USD": D("60")})
    pnl: D = D(0)
    state: TradingState = TradingState.ACTIVE
    breaker: bool = False
    entries: list[int] = field(default_factory=list)
    seq: int = 0

    def ctx(self) -> RiskContext:
        books = {
            s: BookTop(
                s,
                (PriceLevel(self.mids[s] - D("0.0001"), D(100)),),
                (PriceLevel(self.mids[s] + D("0.0001"), D(100)),),
                True,
                self.book_ns[s],
                self.book_ns[s],
            )
            for s in SYMBOLS
        }
        return RiskContext(
            now_ns=self.now,
            trading_state=self.state,
            system_state=SystemState.ONLINE,
            breaker_open=self.breaker,
            instruments=INSTRUMENTS,
            books=books,
            positions=dict(self.positions),
            working=tuple(self.working),
            daily_pnl=self.pnl,
            balances=dict(self.balances),
        )

    def exposure(self) -> D:
        total = sum((abs(q) * self.mids[s] for s, q in self.positions.items()), D(0))
        for w in self.working:
            if not w.reduces_position:
                assert w.limit_price is not None
                total += w.remaining_qty * w.limit_price
        return total


intents = st.tuples(
    st.just("intent"),
    st.sampled_from(SYMBOLS[:2] * 3 + SYMBOLS[2:]),
    st.sampled_from(Side),
    st.integers(0, 1000).map(lambda n: D(200 + n) / 100),  # qty 2 .. 12
    st.integers(-300, 300).map(lambda n: D(-n) / 10000),  # price offset from mid
    st.sampled_from([False, True]),  # reduces_position
    st.sampled_from([True, True, True, False]),  # post_only
)
steps = st.one_of(
    intents,
    intents,
    intents,
    st.tuples(st.just("price"), st.sampled_from(SYMBOLS), st.integers(5000, 20000)),
    st.tuples(st.just("clock"), st.integers(0, 40)),
    st.tuples(st.just("fill"), st.integers(0, 10), st.integers(1, 100)),
    st.tuples(st.just("fill"), st.integers(0, 10), st.integers(1, 100)),
    st.tuples(st.just("cancel"), st.integers(0, 10)),
    st.tuples(st.just("pnl"), st.integers(-200, 500).map(lambda n: -n)),
    st.tuples(
        st.just("state"),
        st.sampled_from([TradingState.ACTIVE] * 4 + [TradingState.REDUCING, TradingState.HALTED]),
        st.sampled_from([False, False, False, True]),
    ),
)


def _intent(world: World, gate: RiskGate, step: tuple[object, ...]) -> None:
    _, symbol, side, qty, offset, reduces, post_only = step
    assert isinstance(symbol, str) and isinstance(qty, D) and isinstance(offset, D)
    price = world.mids[symbol] + offset
    held = world.positions.get(symbol, D(0))
    if reduces and held and qty > abs(held):
        # steer most exits towards plausible ones so approvals are exercised too
        side = Side.SELL if held > 0 else Side.BUY
        qty = abs(held)
    intent = OrderIntent(
        symbol=symbol,
        side=Side(side),  # type: ignore[arg-type]
        order_type=OrderType.LIMIT,
        qty=qty,
        limit_price=price,
        time_in_force=TimeInForce.GTC,
        post_only=bool(post_only),
        reduces_position=bool(reduces),
    )
    before = world.exposure()
    ctx = world.ctx()
    decision = gate.check(intent, ctx)
    if not isinstance(decision, Approved):
        return
    assert world.state is not TradingState.HALTED
    assert INSTRUMENTS[symbol].violation(price, qty) is None
    position = world.positions.get(symbol, D(0))
    if intent.reduces_position:
        other = sum(
            (
                w.remaining_qty
                for w in world.working
                if w.symbol == symbol and w.side is intent.side and w.reduces_position
            ),
            D(0),
        )
        signed = qty if intent.side is Side.BUY else -qty
        assert abs(position + signed) < abs(position) or position * (position + signed) < 0
        assert qty + other <= abs(position)
    else:
        notional = price * qty
        assert world.state is TradingState.ACTIVE and not world.breaker
        assert symbol in LIMITS.allowed_symbols and intent.post_only
        assert LIMITS.min_order_usd <= notional <= LIMITS.max_trade_usd
        assert abs(price - world.mids[symbol]) <= world.mids[symbol] * D("0.02")
        assert world.now - world.book_ns[symbol] <= 5 * S
        assert -world.pnl < LIMITS.max_daily_loss_usd
        assert before + notional <= LIMITS.max_total_exposure_usd
        at_risk = {s for s, q in world.positions.items() if abs(q) >= 1} | {  # ordermin 1
            w.symbol for w in world.working if not w.reduces_position
        }
        assert len(at_risk | {symbol}) <= LIMITS.max_positions
        world.entries.append(world.now)
        recent = [t for t in world.entries if t > world.now - 30 * S]
        assert len(recent) <= LIMITS.max_orders_per_window
    world.seq += 1
    world.working.append(
        WorkingOrder(
            cl_ord_id=f"kb{world.seq}",
            symbol=symbol,
            side=intent.side,
            order_type=OrderType.LIMIT,
            remaining_qty=qty,
            limit_price=price,
            reduces_position=intent.reduces_position,
        )
    )
    assert world.exposure() <= LIMITS.max_total_exposure_usd or intent.reduces_position


def _fill(world: World, index: int, pct: int) -> None:
    if not world.working:
        return
    w = world.working[index % len(world.working)]
    qty = max(D("0.01"), (w.remaining_qty * pct / 100).quantize(D("0.01")))
    qty = min(qty, w.remaining_qty)
    assert w.limit_price is not None
    signed = qty if w.side is Side.BUY else -qty
    world.positions[w.symbol] = world.positions.get(w.symbol, D(0)) + signed
    base = w.symbol[:3]
    world.balances[base] = world.balances.get(base, D(0)) + signed
    world.balances["USD"] -= signed * w.limit_price
    world.working.remove(w)
    if qty < w.remaining_qty:
        world.working.append(
            WorkingOrder(
                w.cl_ord_id,
                w.symbol,
                w.side,
                w.order_type,
                w.remaining_qty - qty,
                w.limit_price,
                w.reduces_position,
            )
        )


@settings(max_examples=150, deadline=None)
@given(st.lists(steps, min_size=15, max_size=40))
def test_no_approved_order_breaks_a_limit(sequence: list[tuple[object, ...]]) -> None:
    world = World()
    gate = RiskGate(LIMITS)
    for step in sequence:
        kind = step[0]
        if kind == "intent":
            _intent(world, gate, step)
        elif kind == "price":
            symbol, ticks = step[1], step[2]
            assert isinstance(symbol, str) and isinstance(ticks, int)
            world.mids[symbol] = D(ticks) / 10000
            world.book_ns[symbol] = world.now
        elif kind == "clock":
            assert isinstance(step[1], int)
            world.now += step[1] * S
        elif kind == "fill":
            assert isinstance(step[1], int) and isinstance(step[2], int)
            _fill(world, step[1], step[2])
        elif kind == "cancel":
            assert isinstance(step[1], int)
            if world.working:
                victim = world.working[step[1] % len(world.working)]
                assert isinstance(gate.check(CancelIntent(victim.cl_ord_id), world.ctx()), Approved)
                world.working.remove(victim)
        elif kind == "pnl":
            assert isinstance(step[1], int)
            world.pnl = D(step[1]) / 100
        else:
            state, breaker = step[1], step[2]
            world.state = TradingState(state)  # type: ignore[arg-type]
            world.breaker = bool(breaker)
