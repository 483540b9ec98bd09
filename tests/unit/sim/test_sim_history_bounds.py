"""The simulator's history is bounded: driven for hours of simulated time with a busy account
(takers that fill, resting orders cancelled, WebSocket tokens), what it keeps stops growing,
and what it kept is still what Kraken's endpoints page through (sim/history.py). Pure: the
exchange core, the replay feed and the REST method table on a ManualClock; no sockets."""

from __future__ import annotations

import tracemalloc
from decimal import Decimal as D

from krakenbot.clock import ManualClock
from krakenbot.sim.account_history import MAX_CLOSED_ORDERS, MAX_FILLS, MAX_TOKENS, ClosedOrderLog
from krakenbot.sim.book import FORMAT_CACHE, _level
from krakenbot.sim.config import SimConfig
from krakenbot.sim.ledger import MAX_LEDGER
from krakenbot.sim.ledger_query import m_ledgers
from krakenbot.sim.market import MAX_CANDLES
from krakenbot.sim.model import OrderRequest, SimOrder
from krakenbot.sim.prices import PriceArg
from krakenbot.sim.replay import ReplayFeed
from krakenbot.sim.rest_methods import m_closed_orders, m_query_orders, m_trades_history
from krakenbot.sim.state import SimState
from krakenbot.sim.wire_ws import fixed

T0 = 1_767_225_600_000_000_000
STEP_S = 5  # simulated seconds per round


def _state() -> tuple[SimState, ManualClock, ReplayFeed]:
    clock = ManualClock(T0)
    balances = {"USD": D(10) ** 9, "XLM": D(10) ** 9, "XBT": D(10) ** 3}
    cfg = SimConfig(pairs=("XLM/USD", "BTC/USD"), feed="replay", tier="pro", balances=balances)
    state = SimState(cfg, clock)
    return state, clock, ReplayFeed(state.exchange, state.rng, T0, speed=1.0)


def _round(state: SimState, clock: ManualClock, feed: ReplayFeed, resting: list[SimOrder]) -> None:
    """One busy moment of the account: two takers fill, a bid rests, the previous is cancelled."""
    clock.advance(STEP_S)
    now = clock.now_ns()
    ex = state.exchange
    feed.tick(now)
    ex.on_time(now)
    xlm = ex.markets["XLM/USD"].spec
    for side in ("buy", "sell"):
        taker = OrderRequest(pair=xlm, side=side, ordertype="market", volume=D(40), price=None)
        _, err = ex.add_order(taker, now)
        assert err is None, err
    bid = (ex.markets["XLM/USD"].mid * D("0.9")).quantize(xlm.price_step)
    order, err = ex.add_order(
        OrderRequest(pair=xlm, side="buy", ordertype="limit", volume=D(40), price=PriceArg(bid)),
        now,
    )
    assert err is None and order is not None, err
    if resting:
        assert ex.cancel([resting.pop()], now) is None
    resting.append(order)
    state.new_token()
    ex.drain()  # what the WebSocket shell does on every publish


def test_history_stays_bounded_over_hours_of_a_busy_account() -> None:
    state, clock, feed = _state()
    ex = state.exchange
    resting: list[SimOrder] = []
    first_orders: set[str] = set()
    rounds = 3_000  # > MAX_CLOSED_ORDERS / 3 and > MAX_FILLS / 2: every bound is reached
    tracemalloc.start()
    try:
        for i in range(rounds):
            _round(state, clock, feed, resting)
            if i == 10:
                first_orders = set(ex.orders)
            if i == rounds // 2:
                halfway, _ = tracemalloc.get_traced_memory()
        at_end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    hours = rounds * STEP_S / 3600
    assert hours > 4
    closed = [o for o in ex.orders.values() if not o.is_open]
    assert len(closed) == MAX_CLOSED_ORDERS and len(ex.open) == 1  # the one resting bid
    assert len(ex.fills) == MAX_FILLS
    assert len(ex.ledger) == MAX_LEDGER  # two entries a fill: the ledger is bounded too
    assert len(state.tokens) == MAX_TOKENS
    for market in ex.markets.values():
        assert len(market.trades) <= 1000 and len(market.candles) <= MAX_CANDLES
    assert ex.events == []
    assert fixed.cache_info().currsize <= FORMAT_CACHE >= _level.cache_info().currsize
    # Flat: the second half of the run added (almost) nothing it kept.
    assert at_end - halfway < 512 * 1024, (halfway, at_end)
    # What is kept is what the REST endpoints page through, newest first.
    page, err = m_closed_orders(state, {"ofs": "0"})
    assert err is None and page is not None
    assert page["count"] == MAX_CLOSED_ORDERS  # type: ignore[index]
    newest = max(closed, key=lambda o: o.closetm_ns or 0)
    assert newest.txid in page["closed"]  # type: ignore[index]
    trades, err = m_trades_history(state, {})
    assert err is None and trades["count"] == MAX_FILLS  # type: ignore[index]
    ledger, err = m_ledgers(state, {})
    assert err is None and ledger["count"] == MAX_LEDGER  # type: ignore[index]
    found, err = m_query_orders(state, {"txid": newest.txid})
    assert err is None and found is not None and newest.txid in found
    forgotten = sorted(first_orders - set(ex.orders))[0]
    assert m_query_orders(state, {"txid": forgotten}) == (None, "EOrder:Invalid order")


def test_the_log_forgets_the_oldest_closed_order_only() -> None:
    orders: dict[str, SimOrder] = {}
    log = ClosedOrderLog(limit=2)
    for txid in ("A", "B", "C"):
        orders[txid] = object()  # type: ignore[assignment]
    orders["OPEN"] = object()  # type: ignore[assignment]
    for txid in ("A", "B", "C"):
        log.closed(txid, orders)
    assert set(orders) == {"B", "C", "OPEN"} and len(log) == 2
