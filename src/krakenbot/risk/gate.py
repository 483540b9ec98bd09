"""The pre-trade risk gate: `RiskGate.check(item, context) -> Approved | Denied`.

Owns: every pre-trade rule, the daily-loss latch and the gate's own order-rate window.
Imports: domain, errors, risk. Must not import: net, store, engine, the clock (time is
`context.now_ns`). Synchronous and total: bad input becomes a `Denied`, never an exception.

Policy, in the order the rules run:
* cancels always pass;
* HALTED passes nothing else; exits (`reduces_position`) that really shrink a position pass
  in ACTIVE and REDUCING whatever the other limits say (a stop-loss must never be blocked by
  the loss it is cutting), but still need a tradable pair, an accepting exchange, valid
  exchange constraints and the balance to sell;
* everything else must pass every rule listed in issue 6.
Checks use Kraken's rules for pair and system states (docs: rest-api/get-system-status,
websocket-v2/instrument): `post_only` accepts only post-only limit orders, `limit_only` only
limit orders, `reduce_only` only reducing orders, `cancel_only`/`maintenance` none.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from krakenbot.domain.commands import CancelIntent, CancelOrder, OrderIntent, PlaceOrder
from krakenbot.domain.enums import OrderType, Side, SystemState, TradingState
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.portfolio import utc_day
from krakenbot.domain.working import WorkingOrder, exposure
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Approved, Checked, Decision, Denied, Rule
from krakenbot.risk.limits import RiskLimits

_T = TypeVar("_T")
ZERO = Decimal(0)
HUNDRED = Decimal(100)
_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class _Proposal:
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    post_only: bool
    reduces_position: bool
    cl_ord_id: str | None

    @classmethod
    def of(cls, item: OrderIntent | PlaceOrder) -> _Proposal:
        if isinstance(item, OrderIntent):
            reduces, cl_ord_id = item.reduces_position, None
        else:
            # A bare command carries no intent (its `reduces_position` only tells the venue
            # the gate approved it as an exit): treat it as risk-increasing.
            reduces, cl_ord_id = False, item.cl_ord_id
        return cls(
            symbol=item.symbol,
            side=item.side,
            order_type=item.order_type,
            qty=item.qty,
            limit_price=item.limit_price,
            post_only=item.post_only and item.order_type is OrderType.LIMIT,
            reduces_position=reduces,
            cl_ord_id=cl_ord_id,
        )


class _Deny(Exception):  # noqa: N818 - internal control flow, never escapes check()
    def __init__(self, rule: Rule, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


def _require(ok: bool, rule: Rule, reason: str) -> None:
    if not ok:
        raise _Deny(rule, reason)


def _need(value: _T | None, rule: Rule, reason: str) -> _T:
    if value is None:
        raise _Deny(rule, reason)
    return value


class RiskGate:
    """Stateful only in two small memories: the daily-loss latch and recent approvals."""

    def __init__(self, limits: RiskLimits, *, loss_halted_day: date | None = None) -> None:
        self.limits = limits
        self.loss_halted_day = loss_halted_day  # persist it to survive a restart
        self._approvals: deque[int] = deque()  # rebuilt from the ledger on a restart

    def restore_approvals(self, created_ns: Iterable[int]) -> None:
        """After a restart: the entries the ledger holds (their creation times) count
        towards the order-rate window, so a crash loop cannot reset the limit."""
        self._approvals = deque(sorted([*self._approvals, *created_ns]))

    def check(self, item: Checked, ctx: RiskContext) -> Decision:
        if isinstance(item, CancelIntent | CancelOrder):
            return Approved(item)
        proposal = _Proposal.of(item)
        try:
            self._common(proposal, ctx)
            if proposal.reduces_position:
                self._exit(proposal, ctx)
            else:
                self._entry(proposal, ctx)
        except _Deny as deny:
            return Denied(item, deny.rule, deny.reason)
        if not proposal.reduces_position:
            self._approvals.append(ctx.now_ns)
        return Approved(item)

    # ------------------------------------------------------------------ shared rules
    def _common(self, p: _Proposal, ctx: RiskContext) -> None:
        # NaN/Infinity would make Decimal comparisons raise: refuse them up front.
        _require(
            p.qty.is_finite() and (p.limit_price is None or p.limit_price.is_finite()),
            Rule.INVALID_NUMBER,
            "quantity and price must be finite numbers",
        )
        _require(
            ctx.trading_state is not TradingState.HALTED,
            Rule.TRADING_HALTED,
            "trading is HALTED: only cancels pass",
        )
        instrument = _need(
            ctx.instruments.get(p.symbol), Rule.UNKNOWN_INSTRUMENT, f"no instrument {p.symbol}"
        )
        _check_system(ctx.system_state, p)
        _check_pair_status(instrument, p)
        violation = instrument.violation(p.limit_price, p.qty)
        _require(violation is None, Rule.EXCHANGE_CONSTRAINT, str(violation))
        _require(
            p.order_type is OrderType.MARKET or p.limit_price is not None,
            Rule.ORDER_TYPE,
            "a limit order needs a price",
        )

    # ------------------------------------------------------------------ exits
    def _exit(self, p: _Proposal, ctx: RiskContext) -> None:
        position = ctx.positions.get(p.symbol, ZERO)
        closing = -1 if p.side is Side.SELL else 1
        held = position if closing < 0 else -position  # quantity this side can close
        others = sum(
            (
                w.remaining_qty
                for w in _others(ctx.working, p)
                if w.symbol == p.symbol
                and w.side is p.side
                and w.reduces_position
                and not w.cancel_requested
            ),
            ZERO,
        )
        _require(
            held > 0 and p.qty <= held - others,
            Rule.NOT_REDUCING,
            f"{p.side} {p.qty} would not reduce position {position} (other exits {others})",
        )
        instrument = ctx.instruments[p.symbol]
        self._check_balance(p, instrument, ctx)

    # ------------------------------------------------------------------ entries
    def _entry(self, p: _Proposal, ctx: RiskContext) -> None:
        limits = self.limits
        _require(
            ctx.trading_state is TradingState.ACTIVE,
            Rule.REDUCING_ONLY,
            "trading is REDUCING: only orders that shrink a position pass",
        )
        _require(not ctx.breaker_open, Rule.BREAKER_OPEN, "circuit breaker is open")
        self._check_daily_loss(ctx)
        _require(
            p.symbol in limits.allowed_symbols,
            Rule.SYMBOL_NOT_ALLOWED,
            f"{p.symbol} is not an allowed pair",
        )
        instrument = ctx.instruments[p.symbol]
        _require(
            instrument.quote == limits.quote_currency,
            Rule.QUOTE_CURRENCY,
            f"{p.symbol} is not quoted in {limits.quote_currency}",
        )
        _require(
            p.order_type is OrderType.LIMIT,
            Rule.ORDER_TYPE,
            "entries must be limit orders (a market order's notional is unbounded)",
        )
        _require(
            p.post_only or not limits.post_only,
            Rule.POST_ONLY_REQUIRED,
            "POST_ONLY is set: entries must be post-only",
        )
        price = _need(p.limit_price, Rule.ORDER_TYPE, "a limit order needs a price")
        mid = self._verified_mid(p.symbol, ctx)
        band = mid * limits.price_band_pct / HUNDRED
        _require(
            abs(price - mid) <= band,
            Rule.PRICE_BAND,
            f"price {price} is more than {limits.price_band_pct}% from mid {mid}",
        )
        notional = price * p.qty
        _require(
            notional <= limits.max_trade_usd,
            Rule.MAX_TRADE_SIZE,
            f"notional {notional} > MAX_TRADE_SIZE {limits.max_trade_usd}",
        )
        _require(
            notional >= limits.min_order_usd,
            Rule.MIN_ORDER_SIZE,
            f"notional {notional} < MIN_ORDER_SIZE {limits.min_order_usd}",
        )
        self._check_exposure(p, notional, ctx)
        self._check_positions(p, ctx)
        self._check_balance(p, instrument, ctx)
        self._check_rate(ctx.now_ns)

    def _check_daily_loss(self, ctx: RiskContext) -> None:
        today = utc_day(ctx.now_ns)
        if self.loss_halted_day is not None and self.loss_halted_day != today:
            self.loss_halted_day = None  # a new UTC day lifts the halt
        _require(
            self.loss_halted_day is None,
            Rule.DAILY_LOSS,
            f"daily loss limit reached on {self.loss_halted_day}: no entries until UTC midnight",
        )
        pnl = _need(ctx.daily_pnl, Rule.DAILY_LOSS, "today's PnL is unknown")
        if -pnl >= self.limits.max_daily_loss_usd:
            self.loss_halted_day = today
            raise _Deny(
                Rule.DAILY_LOSS,
                f"daily PnL {pnl} reached MAX_DAILY_LOSSES {self.limits.max_daily_loss_usd}",
            )

    def _verified_mid(self, symbol: str, ctx: RiskContext) -> Decimal:
        book = _need(ctx.books.get(symbol), Rule.MARKET_DATA, f"no order book for {symbol}")
        _require(book.verified, Rule.MARKET_DATA, f"the {symbol} book is not verified")
        age_ns = ctx.now_ns - book.recv_ns
        _require(
            age_ns <= self.limits.max_book_age_s * _NS,
            Rule.MARKET_DATA,
            f"the {symbol} book is stale ({age_ns / _NS:.1f} s old)",
        )
        mid = _need(book.mid, Rule.MARKET_DATA, f"no mid for {symbol}")
        _require(mid > 0, Rule.MARKET_DATA, f"no positive mid for {symbol}")
        return mid

    def _check_exposure(self, p: _Proposal, notional: Decimal, ctx: RiskContext) -> None:
        marks = {s: b.mid for s, b in ctx.books.items() if b.mid is not None}
        current = _need(
            exposure(ctx.positions, marks, _others(ctx.working, p)),
            Rule.EXPOSURE,
            "exposure unknown: a position has no price",
        )
        cap = self.limits.max_total_exposure_usd
        _require(
            current + notional <= cap,
            Rule.EXPOSURE,
            f"exposure {current} + {notional} > MAX_TOTAL_EXPOSURE {cap}",
        )

    def _check_positions(self, p: _Proposal, ctx: RiskContext) -> None:
        # Dust below the pair's ordermin cannot be sold and is not a position to manage.
        at_risk = {s for s, q in ctx.positions.items() if q != 0 and not _dust(s, q, ctx)}
        at_risk |= {w.symbol for w in _others(ctx.working, p) if not w.reduces_position}
        at_risk.add(p.symbol)
        _require(
            len(at_risk) <= self.limits.max_positions,
            Rule.MAX_POSITIONS,
            f"{len(at_risk)} positions would exceed MAX_POSITIONS {self.limits.max_positions}",
        )

    def _check_balance(self, p: _Proposal, instrument: Instrument, ctx: RiskContext) -> None:
        """Kraken holds funds for our live orders, so they count against the balance."""
        live = [
            w
            for w in _others(ctx.working, p)
            if w.symbol == p.symbol and w.side is p.side and not w.cancel_requested
        ]
        if p.side is Side.SELL:
            need = p.qty + sum((w.remaining_qty for w in live), ZERO)
            have = ctx.balances.get(instrument.base, ZERO)
            asset = instrument.base
        else:
            price = _need(
                p.limit_price if p.limit_price is not None else _ask(p.symbol, ctx),
                Rule.BALANCE,
                f"no price to value a buy of {p.symbol}",
            )
            fee = 1 + instrument.taker_fee_pct / HUNDRED
            reserved = sum((w.remaining_qty * (w.limit_price or price) for w in live), ZERO)
            need = (p.qty * price + reserved) * fee
            have = ctx.balances.get(instrument.quote, ZERO)
            asset = instrument.quote
        _require(have >= need, Rule.BALANCE, f"need {need} {asset}, available {have}")

    def _check_rate(self, now_ns: int) -> None:
        window_ns = int(self.limits.order_window_s * _NS)
        while self._approvals and self._approvals[0] <= now_ns - window_ns:
            self._approvals.popleft()
        _require(
            len(self._approvals) < self.limits.max_orders_per_window,
            Rule.ORDER_RATE,
            f"{len(self._approvals)} orders in the last {self.limits.order_window_s} s",
        )


def _others(working: Iterable[WorkingOrder], p: _Proposal) -> list[WorkingOrder]:
    """Working orders other than the one being checked (a re-checked command is excluded)."""
    return [w for w in working if p.cl_ord_id is None or w.cl_ord_id != p.cl_ord_id]


def _dust(symbol: str, qty: Decimal, ctx: RiskContext) -> bool:
    instrument = ctx.instruments.get(symbol)
    return instrument is not None and abs(qty) < instrument.ordermin


def _ask(symbol: str, ctx: RiskContext) -> Decimal | None:
    book = ctx.books.get(symbol)
    return book.best_ask if book is not None else None


def _check_system(state: SystemState, p: _Proposal) -> None:
    if state is SystemState.ONLINE:
        return
    _require(
        state is SystemState.POST_ONLY,
        Rule.SYSTEM_STATUS,
        f"exchange is in {state}: no new orders",
    )
    _require(
        p.post_only,
        Rule.SYSTEM_STATUS,
        "exchange is post_only: only post-only limit orders are accepted",
    )


def _check_pair_status(instrument: Instrument, p: _Proposal) -> None:
    status = instrument.status
    if status == "online":
        return
    if status == "post_only":
        _require(p.post_only, Rule.PAIR_STATUS, f"{p.symbol} is post_only")
    elif status == "limit_only":
        _require(p.order_type is OrderType.LIMIT, Rule.PAIR_STATUS, f"{p.symbol} is limit_only")
    elif status == "reduce_only":
        _require(p.reduces_position, Rule.PAIR_STATUS, f"{p.symbol} is reduce_only")
    else:
        raise _Deny(Rule.PAIR_STATUS, f"{p.symbol} is {status}: no new orders")
