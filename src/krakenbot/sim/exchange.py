"""The simulated exchange core: one account's balances, orders, matching and timers (pure).

Owns: `Exchange` — accepting orders of all ten Kraken types (checks in sim/order_rules.py),
price-time matching of taker orders against the market's liquidity, maker fills when the
market crosses resting orders (icebergs show `displayvol` and refill), trigger orders that
wait and fire (sim/trigger_engine.py), conditional closes, fees (by the 30-day volume's tier)
and holds (sim/settle.py), the trading-rate counter and open-order cap, scheduled starts
(`starttm`), GTD expiry, the dead man's switch and the system state. Every method takes
`now_ns`; nothing here reads a clock or touches a socket. Events for the WebSocket shell go
to `self.events`; closed orders and fills are kept up to sim/account_history.py's bounds.
Imports: stdlib and sim.* only. Rules cite ../shared/kraken/API.md §3.2, §4, §5.3, §9.
"""

from __future__ import annotations

import copy
import random
from collections import deque
from decimal import Decimal

from krakenbot.sim import trigger_engine
from krakenbot.sim.account_history import MAX_FILLS, ClosedOrderLog
from krakenbot.sim.ledger import opening_ledger
from krakenbot.sim.market import Market
from krakenbot.sim.model import (
    ZERO,
    ExecEvent,
    Fill,
    LedgerEvent,
    OrderRequest,
    SimOrder,
    kraken_id,
)
from krakenbot.sim.order_rules import make_order, needed, resolved_prices, validate
from krakenbot.sim.pairs import PairIndex, PairSpec
from krakenbot.sim.ratelimit import NS, Tier, TradingCounter
from krakenbot.sim.settle import book_fill, hold_of
from krakenbot.sim.volume import VolumeTally

E_UNAVAILABLE = "EService:Unavailable"
E_CANCEL_ONLY = "EService:Market in cancel_only mode"
E_POST_ONLY = "EService:Market in post_only mode"
E_FUNDS = "EOrder:Insufficient funds"
E_UNKNOWN_ORDER = "EOrder:Unknown order"
E_RATE = "EOrder:Rate limit exceeded"
E_ORDERS_LIMIT = "EOrder:Orders limit exceeded"
E_POST_ONLY_ORDER = "EOrder:Post only order"
SYSTEM_STATES = ("online", "maintenance", "cancel_only", "post_only")
REASON_USER = "User requested"
_STATUS_OF = {"pending_new": "pending_new", "trade": "partially_filled", "new": "new"}


class Exchange:
    def __init__(
        self,
        pairs: dict[str, PairSpec],
        tier: Tier,
        balances: dict[str, Decimal],
        rng: random.Random,
        now_ns: int,
    ) -> None:
        self.index = PairIndex(pairs)
        self.tier = tier
        self.rng = rng
        self.markets = {sym: Market(spec, rng, now_ns) for sym, spec in pairs.items()}
        self.orders: dict[str, SimOrder] = {}
        self.open: dict[str, SimOrder] = {}  # every order not closed yet, on the book or not
        self.fills: deque[Fill] = deque(maxlen=MAX_FILLS)  # the newest (sim/history.py)
        self.closed_log = ClosedOrderLog()  # forgets the oldest closed orders past its bound
        self.balances: dict[str, Decimal] = {k: Decimal(v) for k, v in balances.items()}
        for asset in (a for spec in pairs.values() for a in (spec.base, spec.quote)):
            self.balances.setdefault(asset, ZERO)
        self.ledger = opening_ledger(self.balances, now_ns)  # deposits; fills add (settle.py)
        self.volume = VolumeTally()  # 30-day USD volume: the fee tier (settle.py)
        self.system = "online"
        self.trading = TradingCounter(tier)
        self.dms_trigger_ns: int | None = None
        self.events: list[ExecEvent | LedgerEvent] = []
        self.acting_key = ""  # the API key whose request a shell is serving: owns new orders
        self._seq = 0

    # -- account views -------------------------------------------------------------------
    def holds(self) -> dict[str, Decimal]:
        held: dict[str, Decimal] = {}
        for order in self.open.values():
            asset = order.pair.quote if order.side == "buy" else order.pair.base
            held[asset] = held.get(asset, ZERO) + order.hold
        return held

    def available(self, asset: str) -> Decimal:
        return self.balances.get(asset, ZERO) - self.holds().get(asset, ZERO)

    def open_count(self, symbol: str) -> int:
        return sum(1 for o in self.open.values() if o.pair.symbol == symbol)

    # -- validation ----------------------------------------------------------------------
    def check_state(self, req: OrderRequest) -> str | None:
        if self.system == "maintenance":
            return E_UNAVAILABLE
        if self.system == "cancel_only":
            return E_CANCEL_ONLY
        if self.system == "post_only" and not (req.ordertype == "limit" and req.post_only):
            return E_POST_ONLY
        return None

    def validate(self, req: OrderRequest, *, ws: bool) -> str | None:
        return validate(req, self.markets[req.pair.symbol], ws=ws)

    def _would_take(self, req: OrderRequest, price: Decimal | None) -> bool:
        market = self.markets[req.pair.symbol]
        if price is None:
            return False
        if req.side == "buy":
            best = market.asks.best_market()
            return best is not None and price >= best
        best = market.bids.best_market()
        return best is not None and price <= best

    # -- adding --------------------------------------------------------------------------
    def add_order(
        self, req: OrderRequest, now_ns: int, *, ws: bool = False, charged: bool = False
    ) -> tuple[SimOrder | None, str | None]:
        """Place an order; returns the order (unsaved when `validate`) or an error string."""
        err = self.check_state(req)
        # The fixed cost is charged on receipt, even when validation then fails (§3.2).
        charge = err is None and not req.validate and not charged
        if charge and not self.trading.charge_add(req.pair.symbol, now_ns):
            err = E_RATE
        err = err or self.validate(req, ws=ws)
        if err is None and not req.validate:
            err = self.precheck(req)
        if err:
            return None, err
        order = self._new_order(req, now_ns)
        if req.validate:
            return order, None
        self._accept(order, now_ns)
        return order, None

    def precheck(self, req: OrderRequest) -> str | None:
        """Checks that depend on account and book state (cap, post-only, funds)."""
        if self.open_count(req.pair.symbol) >= self.tier.max_open_per_pair:
            return E_ORDERS_LIMIT
        price, _ = resolved_prices(req, self.markets[req.pair.symbol])
        if req.ordertype == "limit" and req.post_only and self._would_take(req, price):
            return E_POST_ONLY_ORDER
        asset, amount = needed(req, self.markets[req.pair.symbol])
        if self.available(asset) < amount:
            return E_FUNDS
        return None

    def _new_order(self, req: OrderRequest, now_ns: int) -> SimOrder:
        self._seq += 1
        market = self.markets[req.pair.symbol]
        order = make_order(req, market, kraken_id(self.rng, "O"), self._seq, now_ns)
        order.owner = self.acting_key  # reports routed per key (SimConfig.reports_per_key)
        return order

    def emit(
        self,
        exec_type: str,
        order: SimOrder,
        now_ns: int,
        fill: Fill | None = None,
        reason: str | None = None,
    ) -> None:
        status = _STATUS_OF.get(exec_type, exec_type)
        if exec_type in ("status", "iceberg_refill", "amended"):
            status = "partially_filled" if order.vol_exec else "new"
        # A copy: the report shows the order as it was at this event, not when published.
        seen = copy.copy(order)
        self.events.append(
            ExecEvent(
                exec_type, seen, status, order.vol_exec, order.cost, order.fee, now_ns, fill, reason
            )
        )

    def _accept(self, order: SimOrder, now_ns: int) -> None:
        self.orders[order.txid] = order
        self.open[order.txid] = order
        self.emit("pending_new", order, now_ns)
        if order.start_ns is not None and order.start_ns > now_ns:
            self.set_hold(order)  # scheduled (starttm): `pending` until its start time
            return
        self._activate(order, now_ns)

    def _activate(self, order: SimOrder, now_ns: int) -> None:
        order.status = "open"
        self.emit("new", order, now_ns)
        if order.is_trigger:
            trigger_engine.arm(self, order)
            self.set_hold(order)
            trigger_engine.evaluate(self, order.pair.symbol, now_ns)
            return
        self.execute(order, now_ns)

    def execute(self, order: SimOrder, now_ns: int) -> None:
        """Take what the book offers at the order's limit (any price for a market leg), then
        rest the remainder (limit legs), or cancel it (market legs, IOC)."""
        market = self.markets[order.pair.symbol]
        if self.system == "online":
            if order.quote_volume is not None:  # viqc: spend the quote amount
                takes = market.take_quote(order.side, order.quote_volume, order.pair.lot_step)
                order.vol = sum((q for _, q in takes), ZERO)
            else:
                takes = market.take(order.side, order.remaining, order.price)
            for price, qty in takes:
                self._fill(order, price, qty, maker=False, now_ns=now_ns)
        if order.remaining <= 0 and order.vol > 0:
            self._close(order, "closed", now_ns)
        elif order.price is None or order.tif == "IOC":
            self._close(order, "canceled", now_ns, reason="Order did not fill completely")
        else:
            self._show(order)
            self.set_hold(order)

    def _show(self, order: SimOrder) -> None:
        """Put the order's visible part in the book (an iceberg shows `display` at most)."""
        assert order.price is not None
        market = self.markets[order.pair.symbol]
        book = market.bids if order.side == "buy" else market.asks
        visible = order.remaining
        if order.display is not None:
            visible = min(order.display, order.remaining)
        book.add_own(order.price, visible - order.shown)
        order.shown = visible
        order.on_book = True
        market.dirty = True

    def set_hold(self, order: SimOrder) -> None:
        order.hold = hold_of(order)

    def _fill(
        self, order: SimOrder, price: Decimal, qty: Decimal, *, maker: bool, now_ns: int
    ) -> Fill:
        fill = book_fill(self, order, price, qty, maker=maker, now_ns=now_ns)
        self.set_hold(order)
        self.emit("trade", order, now_ns, fill)
        return fill

    def _close(self, order: SimOrder, status: str, now_ns: int, reason: str | None = None) -> None:
        if order.on_book:
            assert order.price is not None
            market = self.markets[order.pair.symbol]
            book = market.bids if order.side == "buy" else market.asks
            book.add_own(order.price, -order.shown)
            order.shown, order.on_book = ZERO, False
            market.dirty = True
        self.open.pop(order.txid, None)
        self.closed_log.closed(order.txid, self.orders)
        order.hold = ZERO
        order.status = status
        order.closetm_ns = now_ns
        order.reason = reason
        self.emit({"closed": "filled"}.get(status, status), order, now_ns, reason=reason)
        trigger_engine.place_close(self, order, now_ns)

    # -- cancelling ----------------------------------------------------------------------
    def find_open(self, ref: str | int) -> list[SimOrder]:
        """Open orders matching a txid, a cl_ord_id or a userref (Kraken's CancelOrder)."""
        if isinstance(ref, int):
            return [o for o in self.open.values() if o.userref == ref]
        if ref in self.open:
            return [self.open[ref]]
        hits = [o for o in self.open.values() if o.cl_ord_id == ref]
        if not hits and ref.lstrip("-").isdigit():
            hits = [o for o in self.open.values() if o.userref == int(ref)]
        return hits

    def cancel(
        self,
        orders: list[SimOrder],
        now_ns: int,
        *,
        force: bool = False,
        reason: str = REASON_USER,
    ) -> str | None:
        if self.system == "maintenance":
            return E_UNAVAILABLE
        if not orders:
            return E_UNKNOWN_ORDER
        for order in orders:
            ref_ns = order.amended_ns or order.opentm_ns
            age_s = (now_ns - ref_ns) / NS
            if not self.trading.charge_cancel(order.pair.symbol, age_s, now_ns, force=force):
                return E_RATE
            self._close(order, "canceled", now_ns, reason=reason)
        return None

    def cancel_all(self, now_ns: int, reason: str = REASON_USER) -> int:
        orders = list(self.open.values())
        for order in orders:
            if not order.is_open:
                continue  # a conditional close placed while cancelling: it stays
            ref_ns = order.amended_ns or order.opentm_ns
            self.trading.charge_cancel(
                order.pair.symbol, (now_ns - ref_ns) / NS, now_ns, force=True
            )
            self._close(order, "canceled", now_ns, reason=reason)
        return len(orders)

    def cancel_all_after(self, timeout_s: int, now_ns: int) -> int:
        """Arm (timeout > 0) or disarm (0) the dead man's switch; returns the trigger time."""
        self.dms_trigger_ns = now_ns + timeout_s * NS if timeout_s > 0 else None
        return self.dms_trigger_ns or now_ns

    def on_time(self, now_ns: int) -> None:
        """Run timers: the dead man's switch, GTD expiry and scheduled starts."""
        if self.dms_trigger_ns is not None and now_ns >= self.dms_trigger_ns:
            self.dms_trigger_ns = None
            self.cancel_all(now_ns, reason=REASON_USER)
        for order in [o for o in self.open.values() if o.expire_ns and o.expire_ns <= now_ns]:
            self._close(order, "expired", now_ns, reason="Order expired")
        for order in [o for o in self.open.values() if o.status == "pending"]:
            if order.start_ns is not None and order.start_ns <= now_ns:
                self._activate(order, now_ns)

    def cross(self, symbol: str, now_ns: int) -> None:
        """Fill resting orders the market has moved through, best price then time first, then
        let the trigger orders see the new prices."""
        if self.system != "online":
            return
        market = self.markets[symbol]
        resting = [o for o in self.open.values() if o.pair.symbol == symbol and o.on_book]
        buys = sorted(
            (o for o in resting if o.side == "buy"), key=lambda o: (-(o.price or ZERO), o.seq)
        )
        sells = sorted(
            (o for o in resting if o.side == "sell"), key=lambda o: (o.price or ZERO, o.seq)
        )
        for order in buys + sells:
            if not order.on_book:
                continue
            assert order.price is not None
            taken = market.take(order.side, order.remaining, order.price)
            qty = sum((q for _, q in taken), ZERO)
            if qty > 0:
                self._maker_fill(order, qty, now_ns)
        trigger_engine.evaluate(self, symbol, now_ns)

    def _maker_fill(self, order: SimOrder, qty: Decimal, now_ns: int) -> None:
        assert order.price is not None
        market = self.markets[order.pair.symbol]
        book = market.bids if order.side == "buy" else market.asks
        shown_used = min(qty, order.shown)
        book.add_own(order.price, -shown_used)
        order.shown -= shown_used
        market.dirty = True
        self._fill(order, order.price, qty, maker=True, now_ns=now_ns)
        if order.remaining <= 0:
            self._close(order, "closed", now_ns)
        elif order.shown <= 0:
            self._show(order)  # an iceberg shows its next slice
            self.emit("iceberg_refill", order, now_ns)

    def feed_trade(
        self, symbol: str, now_ns: int, *, side: str | None = None, qty: Decimal | None = None
    ) -> None:
        """A market taker arrives; it hits own resting orders first when they are better."""
        market = self.markets[symbol]
        side = side or ("buy" if self.rng.random() < 0.5 else "sell")
        book = market.asks if side == "buy" else market.bids
        best_market = book.best_market()
        if self.system == "online" and book.own:
            own_best = max(book.own) if book.bids else min(book.own)
            better = best_market is None or (
                own_best > best_market if book.bids else own_best < best_market
            )
            if better:
                maker_side = "sell" if side == "buy" else "buy"
                for order in sorted(self.open.values(), key=lambda o: o.seq):
                    if (
                        order.pair.symbol == symbol
                        and order.on_book
                        and order.side == maker_side
                        and order.price == own_best
                    ):
                        take = min(order.shown, qty or market.unit_qty)
                        self._maker_fill(order, take, now_ns)
                        trigger_engine.evaluate(self, symbol, now_ns)
                        return
        market.feed_trade(side, now_ns, qty=qty)
        trigger_engine.evaluate(self, symbol, now_ns)

    def set_mid(self, symbol: str, price: Decimal, now_ns: int) -> None:
        self.markets[symbol].recenter(price, now_ns)
        self.cross(symbol, now_ns)

    def drain_noop(self) -> None:
        """Drop pending events (used until a WebSocket shell is attached)."""
        self.events.clear()

    def drain(self) -> list[ExecEvent | LedgerEvent]:
        events, self.events = self.events, []
        return events
