"""`SimControl`: the test-facing handle of a running simulator (synchronous calls).

Owns: the control surface — keys, system status, market moves, the index price, orders
placed as the account's owner would (foreign to the bot: `place_order`), feed pause, the
exchange's own view of orders/fills/balances, counters, timers and the `faults` injector.
Imports: stdlib, krakenbot.clock and sim.* only.
"""

from __future__ import annotations

from decimal import Decimal

from krakenbot.clock import ManualClock
from krakenbot.sim.auth import ALL_PERMISSIONS
from krakenbot.sim.exchange import SYSTEM_STATES
from krakenbot.sim.faults import FaultInjector
from krakenbot.sim.order_params import parse_rest_order
from krakenbot.sim.state import SimState


class SimControl:
    def __init__(self, state: SimState) -> None:
        self._state = state

    @property
    def faults(self) -> FaultInjector:
        return self._state.faults

    def add_key(
        self,
        api_key: str,
        api_secret: str,
        *,
        permissions: frozenset[str] = ALL_PERMISSIONS,
        nonce_window: int = 0,
    ) -> None:
        self._state.keys.add(
            api_key, api_secret, permissions=permissions, nonce_window=nonce_window
        )

    def set_system_status(self, state: str) -> None:
        if state not in SYSTEM_STATES:
            raise ValueError(f"system status must be one of {SYSTEM_STATES}")
        self._state.exchange.system = state
        self._state.status_changed()

    def set_mid(self, symbol: str, price: Decimal) -> None:
        """Move the book around `price`; resting orders the market crosses are filled."""
        ex = self._state.exchange
        spec = ex.index.resolve(symbol)
        if spec is None:
            raise ValueError(f"unknown pair {symbol!r}")
        ex.set_mid(spec.symbol, Decimal(price), self._state.now_ns())
        self._state.changed()

    def market_trade(self, symbol: str, side: str, qty: Decimal) -> None:
        """A market taker of `qty` arrives (`side` is the taker's: "buy" or "sell"); it hits
        our resting orders first when they are better than the market (partial fills)."""
        ex = self._state.exchange
        spec = ex.index.resolve(symbol)
        if spec is None:
            raise ValueError(f"unknown pair {symbol!r}")
        ex.feed_trade(spec.symbol, self._state.now_ns(), side=side, qty=Decimal(qty))
        self._state.changed()

    def set_index(self, symbol: str, price: Decimal | None) -> None:
        """Pin the pair's index price (what `trigger=index` orders watch); None: the book's
        mid stands in for it again. Trigger orders see the new price at once."""
        ex = self._state.exchange
        spec = ex.index.resolve(symbol)
        if spec is None:
            raise ValueError(f"unknown pair {symbol!r}")
        ex.markets[spec.symbol].index_price = None if price is None else Decimal(price)
        ex.cross(spec.symbol, self._state.now_ns())
        self._state.changed()

    def place_order(self, **params: object) -> str:
        """Place an order on the account as its owner would on the website or with another
        program (not through the bot's key): REST AddOrder parameters, every order type,
        e.g. `place_order(pair="XBTUSD", type="sell", ordertype="trailing-stop",
        volume="0.001", price="+5%")`. Returns the txid; a refusal raises ValueError with
        Kraken's error text."""
        ex = self._state.exchange
        now = self._state.now_ns()
        req = parse_rest_order(dict(params), ex.index, now)
        if isinstance(req, str):
            raise ValueError(req)
        order, err = ex.add_order(req, now)
        if err or order is None:
            raise ValueError(err or "not placed")
        self._state.changed()
        return order.txid

    def pause_feed(self) -> None:
        self._state.feed_paused = True

    def resume_feed(self) -> None:
        self._state.feed_paused = False

    def orders(self) -> list[dict[str, object]]:
        return [
            {
                "txid": o.txid,
                "cl_ord_id": o.cl_ord_id,
                "userref": o.userref,
                "pair": o.pair.symbol,
                "side": o.side,
                "type": o.ordertype,
                "price": o.price,
                "vol": o.vol,
                "vol_exec": o.vol_exec,
                "status": o.status,
                "cost": o.cost,
                "fee": o.fee,
                "tif": o.tif,
                "post_only": o.post_only,
                "reason": o.reason,
                "stop": o.stop,
                "limit": o.limit,
                "triggered": o.triggered_ns is not None,
                "display": o.display,
                "refid": o.refid,
                "flags": sorted(o.flags),
                "opentm_ns": o.opentm_ns,
                "closetm_ns": o.closetm_ns,
            }
            for o in self._state.exchange.orders.values()
        ]

    def trades(self) -> list[dict[str, object]]:
        return [
            {
                "trade_id": f.txid,
                "public_trade_id": f.trade_id,
                "ordertxid": f.ordertxid,
                "pair": f.pair.symbol,
                "side": f.side,
                "price": f.price,
                "vol": f.vol,
                "cost": f.cost,
                "fee": f.fee,
                "maker": f.maker,
                "time_ns": f.time_ns,
            }
            for f in self._state.exchange.fills
        ]

    def balances(self) -> dict[str, Decimal]:
        return self._state.balances()

    def holds(self) -> dict[str, Decimal]:
        return self._state.exchange.holds()

    def private_calls(self, method: str | None = None) -> list[dict[str, str]]:
        """The parameters (but the nonce) of the last 1,000 authenticated private requests,
        oldest first; only `method`'s when given."""
        return [dict(p) for m, p, _ in self._state.private_calls if method in (None, m)]

    def rest_counter(self, api_key: str) -> Decimal:
        return self._state.rest_counters.value(api_key, self._state.now_ns())

    def spend_rest(self, api_key: str, points: Decimal) -> Decimal:
        """Spend `points` of the key's REST counter as calls made before would have (a daemon
        restarted a few times: each start-up's reconciliation costs 5 or more); capped at the
        tier's maximum, decaying as usual. Returns the counter's new value."""
        return self._state.rest_counters.spend(api_key, Decimal(points), self._state.now_ns())

    def trading_counter(self, api_key: str, symbol: str) -> Decimal:
        """The per-pair trading counter (one account: every key shares it)."""
        spec = self._state.exchange.index.resolve(symbol)
        if spec is None:
            raise ValueError(f"unknown pair {symbol!r}")
        return self._state.exchange.trading.value(spec.symbol, self._state.now_ns())

    def requests(self) -> dict[str, int]:
        """Trading requests received so far by transport and method, e.g.
        `{"ws:add_order": 3, "rest:AddOrder": 1}` (private REST calls of every kind count)."""
        return dict(self._state.requests)

    def dead_man_trigger_ns(self) -> int | None:
        return self._state.exchange.dms_trigger_ns

    def advance(self, seconds: float) -> None:
        """Move a ManualClock forward and run the timers (dead man's switch, GTD expiry)."""
        clock = self._state.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("advance() needs SimConfig(clock=ManualClock())")
        clock.advance(seconds)
        self._state.changed()

    def tick_feed(self, n: int = 1) -> None:
        """Run the market feed `n` steps now (deterministic tests with a paused feed)."""
        for _ in range(n):
            self._state.feed_tick()
            self._state.changed()
