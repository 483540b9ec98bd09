"""Shared builders for risk tests (imported by module name; pytest puts this dir on sys.path)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from tests.instruments import XLM

from krakenbot.domain.commands import OrderIntent
from krakenbot.domain.enums import OrderType, Side, SystemState, TimeInForce, TradingState
from krakenbot.domain.events import BookTop, PriceLevel
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.working import WorkingOrder
from krakenbot.risk.context import RiskContext
from krakenbot.risk.limits import RiskLimits

NOW = 1_763_776_800_000_000_000  # 2025-11-22T02:00:00Z
S = 1_000_000_000

BTC = Instrument(
    symbol="BTC/USD",
    rest_id="XXBTZUSD",
    altname="XBTUSD",
    wsname="XBT/USD",
    base="BTC",
    quote="USD",
    price_decimals=1,
    lot_decimals=8,
    cost_decimals=5,
    tick_size=D("0.1"),
    ordermin=D("0.0001"),
    costmin=D("0.5"),
)
LIMITS = RiskLimits(
    allowed_symbols=frozenset({"XLM/USD", "BTC/USD"}),
    max_trade_usd=D("10"),
    min_order_usd=D("1"),
    max_total_exposure_usd=D("25"),
    max_positions=2,
    max_daily_loss_usd=D("5"),
    post_only=True,
    price_band_pct=D("2"),
    max_book_age_s=10.0,
    max_orders_per_window=3,
    order_window_s=60.0,
)


def book(symbol: str = "XLM/USD", bid: str = "0.249", ask: str = "0.251", **kw: object) -> BookTop:
    b = BookTop(
        symbol=symbol,
        bids=(PriceLevel(D(bid), D("1000")),),
        asks=(PriceLevel(D(ask), D("1000")),),
        verified=True,
        exchange_ns=NOW,
        recv_ns=NOW,
    )
    return replace(b, **kw)  # type: ignore[arg-type]


def ctx(**kw: object) -> RiskContext:
    base = RiskContext(
        now_ns=NOW,
        trading_state=TradingState.ACTIVE,
        system_state=SystemState.ONLINE,
        breaker_open=False,
        instruments={"XLM/USD": XLM, "BTC/USD": BTC},
        books={"XLM/USD": book(), "BTC/USD": book("BTC/USD", "50000.0", "50000.2")},
        positions={},
        working=(),
        daily_pnl=D("0"),
        balances={"USD": D("100"), "XLM": D("0"), "BTC": D("0")},
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def buy(qty: str = "36", price: str = "0.249", **kw: object) -> OrderIntent:
    """$8.964 post-only buy at the bid: passes every rule in the default context."""
    i = OrderIntent(
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        limit_price=D(price),
        post_only=True,
        tag="entry",
    )
    return replace(i, **kw)  # type: ignore[arg-type]


def sell_exit(qty: str = "36", price: str | None = "0.249", **kw: object) -> OrderIntent:
    i = OrderIntent(
        symbol="XLM/USD",
        side=Side.SELL,
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        qty=D(qty),
        limit_price=D(price) if price else None,
        time_in_force=TimeInForce.IOC,
        reduces_position=True,
        tag="stop_loss",
    )
    return replace(i, **kw)  # type: ignore[arg-type]


def working(
    side: Side = Side.BUY,
    qty: str = "36",
    price: str | None = "0.249",
    symbol: str = "XLM/USD",
    **kw: object,
) -> WorkingOrder:
    w = WorkingOrder(
        cl_ord_id="kbworking000000001",
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT,
        remaining_qty=D(qty),
        limit_price=D(price) if price else None,
    )
    return replace(w, **kw)  # type: ignore[arg-type]
