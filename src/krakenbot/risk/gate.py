"""The pre-trade risk gate: `RiskGate.check(item, context) -> Approved | Denied`.

Owns: every pre-trade rule, the daily-loss latch and the gate's own order-rate window (what
is checked, a `Proposal`, is built in risk/proposal.py).
Imports: domain, errors, risk. Must not import: net, store, engine, the clock (time is
`context.now_ns`). Synchronous and total: bad input becomes a `Denied`, never an exception.

Policy, in the order the rules run:
* cancels always pass;
* a protective stop (a reducing `stop-loss`, see orders/protection.py) passes even when
  HALTED: it can only shrink a position, and only when the market falls through it;
* HALTED passes nothing else; exits (`reduces_position`) that really shrink a position pass
  in ACTIVE and REDUCING whatever the other limits say (a stop-loss must never be blocked by
  the loss it is cutting), but still need a tradable pair, an accepting exchange, valid
  exchange constraints and the balance to sell;
* everything else must pass every rule listed in issue 6, and no entry goes to a pair whose
  position could not be protected (`RiskContext.unprotected`, rule `unprotected`).
An amend is checked as the order it would leave behind (new quantity and prices), under the
rules of that order's kind.
Checks use Kraken's rules for pair and system states (docs: rest-api/get-system-status,
websocket-v2/instrument): `post_only` accepts only post-only limit orders, `limit_only` only
limit orders, `reduce_only` only reducing orders, `cancel_only`/`maintenance` none.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from krakenbot.domain.commands import AmendIntent, CancelIntent, CancelOrder
from krakenbot.domain.enums import OrderType, Side, SystemState, TradingState
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.portfolio import utc_day
from krakenbot.domain.working import WorkingOrder, exposure
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Approved, Checked, Decision, Denied, Rule
from krakenbot.risk.limits import RiskLimits
from krakenbot.risk.proposal import Deny, Proposal, require
from krakenbot.risk.proposal import need as _need  # `need` is a balance below

ZERO = Decimal(0)
HUNDRED = Decimal(100)
_NS = 1_000_000_000


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
        try:
            if isinstance(item, AmendIntent):
                proposal = Proposal.amended(item, ctx.working)
            else:
                proposal = Proposal.of(item)
            self._common(proposal, ctx)
            others = _others(ctx.working, proposal)
            if proposal.reduces_position:
                self._exit(proposal, ctx, others)
            else:
                self._entry(proposal, ctx, others)
        except Deny as deny:
            return Denied(item, deny.rule, deny.reason)
        if not proposal.reduces_position and not isinstance(item, AmendIntent):
            self._approvals.append(ctx.now_ns)  # the rate limit counts new orders
        return Approved(item)

    # ------------------------------------------------------------------ shared rules
    def _common(self, p: Proposal, ctx: RiskContext) -> None:
        # NaN/Infinity would make Decimal comparisons raise: refuse them up front.
        require(
            all(v is None or v.is_finite() for v in (p.qty, p.limit_price, p.trigger_price)),
            Rule.INVALID_NUMBER,
            "quantity and price must be finite numbers",
        )
        require(
            ctx.trading_state is not TradingState.HALTED or p.protective,
            Rule.TRADING_HALTED,
            "trading is HALTED: only cancels and protective stops pass",
        )
        instrument = ctx.instruments.get(p.symbol)
        if instrument is None:
            raise Deny(Rule.UNKNOWN_INSTRUMENT, f"no instrument {p.symbol}")
        _check_system(ctx.system_state, p)
        _check_pair_status(instrument, p)
        violation = instrument.violation(p.price, p.qty)
        if violation is not None:
            raise Deny(Rule.EXCHANGE_CONSTRAINT, str(violation))
        require(
            p.order_type is not OrderType.LIMIT or p.limit_price is not None,
            Rule.ORDER_TYPE,
            "a limit order needs a price",
        )
        require(
            p.order_type is not OrderType.STOP_LOSS or p.trigger_price is not None,
            Rule.ORDER_TYPE,
            "a stop-loss order needs a trigger price",
        )

    # ------------------------------------------------------------------ exits
    def _exit(self, p: Proposal, ctx: RiskContext, others: list[WorkingOrder]) -> None:
        position = ctx.positions.get(p.symbol, ZERO)
        closing = -1 if p.side is Side.SELL else 1
        held = position if closing < 0 else -position  # quantity this side can close
        exits = sum(
            (
                w.remaining_qty
                for w in others
                if w.symbol == p.symbol
                and w.side is p.side
                and w.reduces_position
                and not w.cancel_requested
            ),
            ZERO,
        )
        if not (held > 0 and p.qty <= held - exits):
            raise Deny(
                Rule.NOT_REDUCING,
                f"{p.side} {p.qty} would not reduce position {position} (other exits {exits})",
            )
        instrument = ctx.instruments[p.symbol]
        self._check_balance(p, instrument, ctx, others)

    # ------------------------------------------------------------------ entries
    def _entry(self, p: Proposal, ctx: RiskContext, others: list[WorkingOrder]) -> None:
        # Reasons are formatted only when a rule refuses (Decimal to text is most of an
        # approval's cost otherwise): `if not ...: raise Deny(...)`, not `require`.
        limits = self.limits
        require(
            ctx.trading_state is TradingState.ACTIVE,
            Rule.REDUCING_ONLY,
            "trading is REDUCING: only orders that shrink a position pass",
        )
        require(not ctx.breaker_open, Rule.BREAKER_OPEN, "circuit breaker is open")
        unprotected = ctx.unprotected.get(p.symbol)
        if unprotected is not None:
            raise Deny(
                Rule.UNPROTECTED,
                f"{p.symbol}: the position's protective stop could not be placed "
                f"({unprotected}); no entries until it rests or the position is closed",
            )
        self._check_daily_loss(ctx)
        if p.symbol not in limits.allowed_symbols:
            raise Deny(Rule.SYMBOL_NOT_ALLOWED, f"{p.symbol} is not an allowed pair")
        instrument = ctx.instruments[p.symbol]
        if instrument.quote != limits.quote_currency:
            raise Deny(Rule.QUOTE_CURRENCY, f"{p.symbol} is not quoted in {limits.quote_currency}")
        require(
            p.order_type is OrderType.LIMIT,
            Rule.ORDER_TYPE,
            "entries must be limit orders (a market order's notional is unbounded)",
        )
        require(
            p.post_only or not limits.post_only,
            Rule.POST_ONLY_REQUIRED,
            "POST_ONLY is set: entries must be post-only",
        )
        price = _need(p.limit_price, Rule.ORDER_TYPE, "a limit order needs a price")
        mid = self._verified_mid(p.symbol, ctx)
        band = mid * limits.price_band_pct / HUNDRED
        if abs(price - mid) > band:
            raise Deny(
                Rule.PRICE_BAND,
                f"price {price} is more than {limits.price_band_pct}% from mid {mid}",
            )
        notional = price * p.qty
        if notional > limits.max_trade_usd:
            raise Deny(
                Rule.MAX_TRADE_SIZE, f"notional {notional} > MAX_TRADE_SIZE {limits.max_trade_usd}"
            )
        if notional < limits.min_order_usd:
            raise Deny(
                Rule.MIN_ORDER_SIZE, f"notional {notional} < MIN_ORDER_SIZE {limits.min_order_usd}"
            )
        self._check_exposure(notional, ctx, others)
        self._check_positions(p, ctx, others)
        self._check_balance(p, instrument, ctx, others)
        self._check_rate(ctx.now_ns)

    def _check_daily_loss(self, ctx: RiskContext) -> None:
        today = utc_day(ctx.now_ns)
        if self.loss_halted_day is not None and self.loss_halted_day != today:
            self.loss_halted_day = None  # a new UTC day lifts the halt
        if self.loss_halted_day is not None:
            raise Deny(
                Rule.DAILY_LOSS,
                f"daily loss limit reached on {self.loss_halted_day}: no entries until UTC "
                "midnight",
            )
        pnl = _need(ctx.daily_pnl, Rule.DAILY_LOSS, "today's PnL is unknown")
        if -pnl >= self.limits.max_daily_loss_usd:
            self.loss_halted_day = today
            raise Deny(
                Rule.DAILY_LOSS,
                f"daily PnL {pnl} reached MAX_DAILY_LOSSES {self.limits.max_daily_loss_usd}",
            )

    def _verified_mid(self, symbol: str, ctx: RiskContext) -> Decimal:
        book = ctx.books.get(symbol)
        if book is None:
            raise Deny(Rule.MARKET_DATA, f"no order book for {symbol}")
        if not book.verified:
            raise Deny(Rule.MARKET_DATA, f"the {symbol} book is not verified")
        age_ns = ctx.now_ns - book.recv_ns
        if not age_ns <= self.limits.max_book_age_s * _NS:  # (a NaN limit refuses, as before)
            raise Deny(Rule.MARKET_DATA, f"the {symbol} book is stale ({age_ns / _NS:.1f} s old)")
        mid = book.mid
        if mid is None:
            raise Deny(Rule.MARKET_DATA, f"no mid for {symbol}")
        if not mid > 0:
            raise Deny(Rule.MARKET_DATA, f"no positive mid for {symbol}")
        return mid

    def _check_exposure(
        self, notional: Decimal, ctx: RiskContext, others: list[WorkingOrder]
    ) -> None:
        marks = {s: m for s, b in ctx.books.items() if (m := b.mid) is not None}
        current = _need(
            exposure(ctx.positions, marks, others),
            Rule.EXPOSURE,
            "exposure unknown: a position has no price",
        )
        cap = self.limits.max_total_exposure_usd
        if current + notional > cap:
            raise Deny(Rule.EXPOSURE, f"exposure {current} + {notional} > MAX_TOTAL_EXPOSURE {cap}")

    def _check_positions(self, p: Proposal, ctx: RiskContext, others: list[WorkingOrder]) -> None:
        # Dust below the pair's ordermin cannot be sold and is not a position to manage.
        at_risk = {s for s, q in ctx.positions.items() if q != 0 and not _dust(s, q, ctx)}
        at_risk |= {w.symbol for w in others if not w.reduces_position}
        at_risk.add(p.symbol)
        if len(at_risk) > self.limits.max_positions:
            raise Deny(
                Rule.MAX_POSITIONS,
                f"{len(at_risk)} positions would exceed MAX_POSITIONS {self.limits.max_positions}",
            )

    def _check_balance(
        self, p: Proposal, instrument: Instrument, ctx: RiskContext, others: list[WorkingOrder]
    ) -> None:
        """Kraken holds funds for our live orders, so they count against the balance."""
        live = [
            w
            for w in others
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
        if have < need:
            raise Deny(Rule.BALANCE, f"need {need} {asset}, available {have}")

    def _check_rate(self, now_ns: int) -> None:
        window_ns = int(self.limits.order_window_s * _NS)
        while self._approvals and self._approvals[0] <= now_ns - window_ns:
            self._approvals.popleft()
        if len(self._approvals) >= self.limits.max_orders_per_window:
            raise Deny(
                Rule.ORDER_RATE,
                f"{len(self._approvals)} orders in the last {self.limits.order_window_s} s",
            )


def _others(working: Iterable[WorkingOrder], p: Proposal) -> list[WorkingOrder]:
    """Working orders other than the one being checked (a re-checked command is excluded)."""
    return [w for w in working if p.cl_ord_id is None or w.cl_ord_id != p.cl_ord_id]


def _dust(symbol: str, qty: Decimal, ctx: RiskContext) -> bool:
    instrument = ctx.instruments.get(symbol)
    return instrument is not None and abs(qty) < instrument.ordermin


def _ask(symbol: str, ctx: RiskContext) -> Decimal | None:
    book = ctx.books.get(symbol)
    return book.best_ask if book is not None else None


def _check_system(state: SystemState, p: Proposal) -> None:
    if state is SystemState.ONLINE:
        return
    require(
        state is SystemState.POST_ONLY,
        Rule.SYSTEM_STATUS,
        f"exchange is in {state}: no new orders",
    )
    require(
        p.post_only,
        Rule.SYSTEM_STATUS,
        "exchange is post_only: only post-only limit orders are accepted",
    )


def _check_pair_status(instrument: Instrument, p: Proposal) -> None:
    status = instrument.status
    if status == "online":
        return
    if status == "post_only":
        require(p.post_only, Rule.PAIR_STATUS, f"{p.symbol} is post_only")
    elif status == "limit_only":
        require(p.order_type is OrderType.LIMIT, Rule.PAIR_STATUS, f"{p.symbol} is limit_only")
    elif status == "reduce_only":
        require(p.reduces_position, Rule.PAIR_STATUS, f"{p.symbol} is reduce_only")
    else:
        raise Deny(Rule.PAIR_STATUS, f"{p.symbol} is {status}: no new orders")
