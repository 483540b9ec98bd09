"""The simulated exchange core: one account's balances, orders, matching and timers (pure).

Owns: `Exchange` — order validation with Kraken's error strings, price-time matching of
taker orders against the market's liquidity, maker fills when the market crosses resting
orders, fees, holds, the trading-rate counter and open-order cap, GTD expiry, the dead
man's switch and the system state. Every method takes `now_ns`; nothing here reads a clock
or touches a socket. Events for the WebSocket shell are appended to `self.events`.
Imports: stdlib and sim.* only. Rules cite ../shared/kraken/API.md §3.2, §4, §5.3, §9.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

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
from krakenbot.sim.pairs import ASSETS, PairIndex, PairSpec
from krakenbot.sim.ratelimit import NS, Tier, TradingCounter

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


def _q(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(step, rounding=rounding)


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
        self.open: dict[str, SimOrder] = {}
        self.fills: list[Fill] = []
        self.balances: dict[str, Decimal] = {k: Decimal(v) for k, v in balances.items()}
        for spec in pairs.values():
            self.balances.setdefault(spec.base, ZERO)
            self.balances.setdefault(spec.quote, ZERO)
        self.system = "online"
        self.trading = TradingCounter(tier)
        self.dms_trigger_ns: int | None = None
        self.events: list[ExecEvent | LedgerEvent] = []
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
        """Static checks in the order Kraken reports them (first failure wins)."""
        spec = req.pair
        if req.volume <= 0 or req.volume != req.volume.quantize(spec.lot_step, ROUND_UP):
            return "EGeneral:Invalid arguments:volume"
        if req.volume < spec.ordermin:
            # REST and WS word this differently (API.md §4, real WS capture [roq]).
            return (
                "EGeneral:Invalid arguments:volume minimum not met"
                if ws
                else "EOrder:Order minimum not met"
            )
        market = self.markets[spec.symbol]
        if req.ordertype == "limit":
            if req.price is None:
                return "EGeneral:Invalid arguments:price"
            if req.price <= 0:
                return "EOrder:Invalid price"
            if req.price % spec.tick_size != 0:
                return "EOrder:Tick size check failed"
            ref_price = req.price
        else:
            ref_price = market.mid
        if req.volume * ref_price < spec.costmin:
            return "EOrder:Cost minimum not met"
        if req.tif == "GTD" and req.expire_ns is None:
            return "EGeneral:Invalid arguments:expiretm"
        return None

    def _needed(self, req: OrderRequest) -> tuple[str, Decimal]:
        spec = req.pair
        if req.side == "sell":
            return spec.base, req.volume
        market = self.markets[spec.symbol]
        notional = (
            req.volume * req.price
            if req.ordertype == "limit" and req.price is not None
            else market.quote_for("buy", req.volume)
        )
        quote_step = ASSETS[spec.quote].step
        return spec.quote, _q(notional * (1 + spec.taker_pct / 100), quote_step, ROUND_UP)

    def _would_take(self, req: OrderRequest) -> bool:
        market = self.markets[req.pair.symbol]
        if req.side == "buy":
            best = market.asks.best_market()
            return best is not None and req.price is not None and req.price >= best
        best = market.bids.best_market()
        return best is not None and req.price is not None and req.price <= best

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
        if req.ordertype == "limit" and req.post_only and self._would_take(req):
            return E_POST_ONLY_ORDER
        asset, needed = self._needed(req)
        if self.available(asset) < needed:
            return E_FUNDS
        return None

    def _new_order(self, req: OrderRequest, now_ns: int) -> SimOrder:
        self._seq += 1
        return SimOrder(
            txid=kraken_id(self.rng, "O"),
            pair=req.pair,
            side=req.side,
            ordertype=req.ordertype,
            price=req.price if req.ordertype == "limit" else None,
            vol=req.volume,
            userref=req.userref,
            cl_ord_id=req.cl_ord_id,
            post_only=req.post_only,
            tif=req.tif,
            opentm_ns=now_ns,
            expire_ns=req.expire_ns,
            seq=self._seq,
        )

    def _emit(
        self,
        exec_type: str,
        order: SimOrder,
        now_ns: int,
        fill: Fill | None = None,
        reason: str | None = None,
    ) -> None:
        if exec_type in ("pending_new",):
            status = "pending_new"
        elif exec_type == "trade":
            status = "partially_filled"  # Kraken sends `filled` as a separate report
        elif exec_type == "new":
            status = "new"
        else:
            status = exec_type
        self.events.append(
            ExecEvent(
                exec_type,
                order,
                status,
                order.vol_exec,
                order.cost,
                order.fee,
                now_ns,
                fill,
                reason,
            )
        )

    def _accept(self, order: SimOrder, now_ns: int) -> None:
        self.orders[order.txid] = order
        self._emit("pending_new", order, now_ns)
        order.status = "open"
        self._emit("new", order, now_ns)
        market = self.markets[order.pair.symbol]
        if self.system == "online":
            for price, qty in market.take(order.side, order.remaining, order.price):
                self._fill(order, price, qty, maker=False, now_ns=now_ns)
        if order.remaining <= 0:
            self._close(order, "closed", now_ns)
        elif order.ordertype == "market" or order.tif == "IOC":
            self._close(order, "canceled", now_ns, reason="Order did not fill completely")
        else:
            self.open[order.txid] = order
            self._set_hold(order)
            book = market.bids if order.side == "buy" else market.asks
            assert order.price is not None
            book.add_own(order.price, order.remaining)
            market.dirty = True

    def _set_hold(self, order: SimOrder) -> None:
        if order.side == "sell":
            order.hold = order.remaining
        else:
            assert order.price is not None
            step = ASSETS[order.pair.quote].step
            order.hold = _q(
                order.remaining * order.price * (1 + order.pair.taker_pct / 100), step, ROUND_UP
            )

    def _fill(
        self, order: SimOrder, price: Decimal, qty: Decimal, *, maker: bool, now_ns: int
    ) -> Fill:
        spec = order.pair
        step = ASSETS[spec.quote].step
        cost = _q(price * qty, step)
        pct = spec.maker_pct if maker else spec.taker_pct
        fee = _q(cost * pct / 100, step)
        market = self.markets[spec.symbol]
        taker_side = order.side if not maker else ("sell" if order.side == "buy" else "buy")
        taker_type = order.ordertype if not maker else "limit"
        public = market.print_trade(price, qty, taker_side, taker_type, now_ns)
        fill = Fill(
            kraken_id(self.rng, "T"),
            order.txid,
            kraken_id(self.rng, "T"),
            spec,
            order.side,
            order.ordertype,
            price,
            qty,
            cost,
            fee,
            maker,
            now_ns,
            public.trade_id,
        )
        sign = 1 if order.side == "buy" else -1
        self.balances[spec.base] = self.balances.get(spec.base, ZERO) + sign * qty
        quote_delta = -(cost + fee) if order.side == "buy" else cost - fee
        self.balances[spec.quote] = self.balances.get(spec.quote, ZERO) + quote_delta
        order.vol_exec += qty
        order.cost += cost
        order.fee += fee
        order.trades.append(fill.txid)
        self.fills.append(fill)
        if order.txid in self.open:
            self._set_hold(order)
        self._emit("trade", order, now_ns, fill)
        for asset, amount, fee_part in (
            (spec.base, sign * qty, ZERO),
            (spec.quote, -cost if order.side == "buy" else cost, fee),
        ):
            self.events.append(
                LedgerEvent(
                    kraken_id(self.rng, "L"),
                    fill.txid,
                    now_ns,
                    asset,
                    amount,
                    fee_part,
                    self.balances[asset],
                )
            )
        return fill

    def _close(self, order: SimOrder, status: str, now_ns: int, reason: str | None = None) -> None:
        if order.txid in self.open:
            del self.open[order.txid]
            market = self.markets[order.pair.symbol]
            book = market.bids if order.side == "buy" else market.asks
            assert order.price is not None
            book.add_own(order.price, -order.remaining)
            market.dirty = True
        order.hold = ZERO
        order.status = status
        order.closetm_ns = now_ns
        order.reason = reason
        self._emit({"closed": "filled"}.get(status, status), order, now_ns, reason=reason)

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

    # -- time and market -----------------------------------------------------------------
    def on_time(self, now_ns: int) -> None:
        """Run timers: the dead man's switch and GTD expiry."""
        if self.dms_trigger_ns is not None and now_ns >= self.dms_trigger_ns:
            self.dms_trigger_ns = None
            self.cancel_all(now_ns, reason=REASON_USER)
        for order in [o for o in self.open.values() if o.expire_ns and o.expire_ns <= now_ns]:
            self._close(order, "expired", now_ns, reason="Order expired")

    def cross(self, symbol: str, now_ns: int) -> None:
        """Fill resting orders the market has moved through, best price then time first."""
        if self.system != "online":
            return
        market = self.markets[symbol]
        resting = [o for o in self.open.values() if o.pair.symbol == symbol]
        buys = sorted(
            (o for o in resting if o.side == "buy"), key=lambda o: (-(o.price or ZERO), o.seq)
        )
        sells = sorted(
            (o for o in resting if o.side == "sell"), key=lambda o: (o.price or ZERO, o.seq)
        )
        for order in buys + sells:
            assert order.price is not None
            taken = market.take(order.side, order.remaining, order.price)
            qty = sum((q for _, q in taken), ZERO)
            if qty > 0:
                self._maker_fill(order, qty, now_ns)

    def _maker_fill(self, order: SimOrder, qty: Decimal, now_ns: int) -> None:
        assert order.price is not None
        market = self.markets[order.pair.symbol]
        book = market.bids if order.side == "buy" else market.asks
        book.add_own(order.price, -qty)
        market.dirty = True
        self._fill(order, order.price, qty, maker=True, now_ns=now_ns)
        if order.remaining <= 0:
            self._close(order, "closed", now_ns)

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
                        and order.side == maker_side
                        and (order.price == own_best)
                    ):
                        take = min(order.remaining, qty or market.unit_qty)
                        self._maker_fill(order, take, now_ns)
                        return
        market.feed_trade(side, now_ns, qty=qty)

    def set_mid(self, symbol: str, price: Decimal, now_ns: int) -> None:
        self.markets[symbol].recenter(price, now_ns)
        self.cross(symbol, now_ns)

    def drain_noop(self) -> None:
        """Drop pending events (used until a WebSocket shell is attached)."""
        self.events.clear()

    def drain(self) -> list[ExecEvent | LedgerEvent]:
        events, self.events = self.events, []
        return events
