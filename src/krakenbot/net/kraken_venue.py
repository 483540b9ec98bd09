"""The live Kraken venue: orders exactly once, over the private WebSocket or REST.

Owns: `KrakenVenue` (implements `ports.Venue`), the choice of order transport
(`OrderTransport`: `websocket` by default, `rest` for the old path) and the REST → domain
mappings for orders and trades (`snapshot_of`, `fill_of`). Imports: net, kraken, domain,
errors, ports. Must not import: engine, orders, risk, store. The simulator is this same
class pointed at loopback URLs; there is no other difference.

Orders, amends, cancels and the dead man's switch go over the authenticated WebSocket
(Kraken's fastest path: no HTTP request, no nonce, docs websocket-v2/add_order) whenever the
private connection is up and subscribed, and over REST when it is not; the exactly-once
loop (net/order_sender.py) is the same on both: every order carries a `cl_ord_id` and a
`deadline`, and after an ambiguous outcome the id is looked up, never blindly re-sent. A WS
ack becomes `OrderAccepted` on the stream at once; a REST answer is turned into one here,
so the engine sees one ordered story with the `executions` reports either way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from decimal import Decimal

from krakenbot.clock import Clock
from krakenbot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from krakenbot.domain.enums import Channel, Liquidity, OrderStatus, TimeInForce
from krakenbot.domain.events import (
    AccountEvent,
    BalanceChange,
    CancelRejected,
    ConnectionChanged,
    DecodeFailed,
    ExecutionReport,
    Fill,
    OrderAccepted,
    OrderRejected,
    RateCounter,
    ReconcileRequested,
    StateEvent,
    SubscriptionFailed,
    SystemStatusChanged,
)
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import OrderListing, OrderSnapshot
from krakenbot.domain.sections import OrderTransport
from krakenbot.errors import InvariantError, RejectedError
from krakenbot.kraken import rest_orders
from krakenbot.kraken.ratecount import CounterPairs
from krakenbot.net.order_attempt import Sending
from krakenbot.net.rest_client import RestClient
from krakenbot.net.ws_orders import WsOrderPath
from krakenbot.net.ws_session import WsSession

logger = logging.getLogger(__name__)
_NS = 1_000_000_000
E_UNKNOWN_ORDER = "EOrder:Unknown order"  # what Kraken answers a cancel of a closed order

# REST order status → ours (docs: rest-api/get-open-orders, get-closed-orders). Kraken's
# `closed` means fully executed; `open` with executed volume is partially filled.
_STATUS = {
    "pending": OrderStatus.PENDING_NEW,
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}


def snapshot_of(info: rest_orders.OrderInfo, symbol: str) -> OrderSnapshot:
    status = _STATUS[info.status]
    if status is OrderStatus.OPEN and info.volume_exec > 0:
        status = OrderStatus.PARTIALLY_FILLED
    try:
        tif = TimeInForce((info.time_in_force or "gtc").lower())
    except ValueError:
        tif = TimeInForce.GTC  # a newer word (e.g. fok): not one of ours, which are gtc/ioc
    return OrderSnapshot(
        order_id=info.txid,
        cl_ord_id=info.cl_ord_id,
        symbol=symbol,
        side=info.side,
        order_type=info.order_type,
        qty=info.volume,
        limit_price=info.limit_leg,
        status=status,
        filled_qty=info.volume_exec,
        filled_cost=info.cost,
        fee=info.fee,
        opened_ns=info.open_ns,
        closed_ns=info.close_ns or 0,
        time_in_force=tif,
        post_only=info.post_only,
        reason=info.reason or "",
        trigger_price=info.trigger_price,
        description=info.description,
    )


def listing_of(found: rest_orders.OrderList, symbol_of: Callable[[str], str]) -> OrderListing:
    return OrderListing(
        (snapshot_of(o, symbol_of(o.pair)) for o in found), unreadable=found.unreadable
    )


def fill_of(trade: rest_orders.TradeInfo, instrument: Instrument | None, symbol: str) -> Fill:
    liquidity = (
        None if trade.maker is None else (Liquidity.MAKER if trade.maker else Liquidity.TAKER)
    )
    # Spot fees are charged in the quote currency unless `fcib` was sent (we never do).
    fee_asset = instrument.quote if instrument is not None else symbol.partition("/")[2]
    return Fill(
        trade_id=trade.trade_txid,
        order_id=trade.order_txid,
        cl_ord_id=None,
        symbol=symbol,
        side=trade.side,
        price=trade.price,
        qty=trade.volume,
        cost=trade.cost,
        fee=trade.fee,
        fee_asset=fee_asset,
        liquidity=liquidity,
        exchange_ns=trade.time_ns,
    )


class KrakenVenue:
    """`ports.Venue` over a `RestClient` (trading key) and a private-only `WsSession`."""

    def __init__(
        self,
        rest: RestClient,
        session: WsSession,
        instruments: Mapping[str, Instrument],
        *,
        clock: Clock,
        transport: OrderTransport = OrderTransport.WEBSOCKET,
    ) -> None:
        self.rest = rest
        self.session = session
        self.instruments = dict(instruments)
        self._clock = clock
        # order_id -> pair, for streamed `ratecount` readings on reports that name no symbol.
        self._counter_pairs = CounterPairs()
        self.transport = transport
        self.ws: WsOrderPath | None = None
        if transport is OrderTransport.WEBSOCKET:
            self.ws = WsOrderPath(
                session.trading, rest.core, clock, ack_grace_s=rest.config.deadline_grace_s
            )
        # The REST client's order calls (also the dead man's switch's) use the WS first.
        rest.route_orders(self.ws)

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Serve the private WebSocket until `stop()`."""
        await self.session.run()

    def stop(self) -> None:
        self.session.stop()

    async def wait_connected(self) -> None:
        await self.session.wait_connected(Channel.PRIVATE)

    def _symbol(self, pair: str) -> str:
        return self.rest.pair_key(pair)

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise RejectedError(f"no instrument for {symbol}", endpoint="AddOrder")
        return instrument

    # ------------------------------------------------------------------ orders
    def place_now(self, command: PlaceOrder) -> Awaitable[None] | None:
        """`place` with its first request written to the private WebSocket before this
        returns, when nothing has to wait (`RestClient.add_order_now`): the awaitable then
        finishes it (the ack; the exactly-once rules), with `place`'s outcomes. None:
        nothing written (use `place`)."""
        instrument = self.instruments.get(command.symbol)
        if instrument is None or self.ws is None:
            return None
        try:
            request = rest_orders.order_request(command, instrument)
        except ValueError:
            return None  # `place` raises the rejection
        first = self.rest.add_order_now(request, reducing=command.reduces_position)
        if first is None:
            return None
        return self._add(command, request, first)

    async def place(self, command: PlaceOrder) -> None:
        instrument = self._instrument(command.symbol)
        try:
            request = rest_orders.order_request(command, instrument)
        except ValueError as exc:
            raise RejectedError(str(exc), endpoint="AddOrder", cl_ord_id=command.cl_ord_id) from exc
        await self._add(command, request, None)

    async def _add(
        self, command: PlaceOrder, request: rest_orders.OrderRequest, first: Sending | None
    ) -> None:
        # An exit goes whatever the breaker says (the gate let it through as reducing).
        reducing = command.reduces_position
        result = await self.rest.add_order(request, reducing=reducing, first=first)
        if not result.txids:
            raise InvariantError("AddOrder answered without a txid", cl_ord_id=command.cl_ord_id)
        self._counter_pairs.learn(result.txids[0], command.symbol)
        if not result.announced:  # a WS ack is on the stream already
            self.session.inbound.put(
                OrderAccepted(command.cl_ord_id, result.txids[0], self._clock.now_ns())
            )

    async def amend(self, command: AmendOrder) -> None:
        instrument = self._instrument(command.symbol)
        try:
            request = rest_orders.amend_request(command, instrument)
        except ValueError as exc:
            raise RejectedError(
                str(exc), endpoint="AmendOrder", cl_ord_id=command.cl_ord_id
            ) from exc
        # Its outcome arrives as the executions `amended` report (same ids: docs AmendOrder).
        await self.rest.amend_order(request, reducing=command.reduces_position)

    async def cancel(self, command: CancelOrder) -> None:
        # CancelOrder takes exactly one reference; the txid is Kraken's own, so prefer it.
        if command.order_id:
            result = await self.rest.cancel_order(txid=command.order_id)
        else:
            result = await self.rest.cancel_order(cl_ord_id=command.cl_ord_id)
        if result.count == 0:
            # Kraken no longer has it open (`EOrder:Unknown order`): it closed, and the
            # report saying how never reached us (e.g. sent before the executions stream
            # began). Told to the core as the paper venue tells it, so reconciliation reads
            # its fate; otherwise the order stayed live here for good (and an exit waiting
            # for a protective stop's cancel with it).
            self.session.inbound.put(
                CancelRejected(
                    command.cl_ord_id, command.order_id, E_UNKNOWN_ORDER, self._clock.now_ns()
                )
            )

    async def cancel_all(self) -> None:
        await self.rest.cancel_all()

    async def cancel_all_after(self, timeout_s: int) -> None:
        await self.rest.cancel_all_orders_after(timeout_s)

    # ------------------------------------------------------------------ queries
    # Each listing carries the orders Kraken listed but we could not read (`.unreadable`).
    async def open_orders(self) -> Sequence[OrderSnapshot]:
        return listing_of(await self.rest.open_orders(), self._symbol)

    async def closed_orders(self, since_ns: int) -> Sequence[OrderSnapshot]:
        # Orders that CLOSED since then (docs get-closed-orders: closetime "Which time to use
        # to search"): an order opened long before the window and closed inside it is listed;
        # the default, `both`, leaves open how the two times combine. `start` is exclusive:
        # whole seconds rounded down only widen the window.
        found = await self.rest.closed_orders_all(start=since_ns // _NS, closetime="close")
        return listing_of(found, self._symbol)

    async def query_orders(self, order_ids: Sequence[str]) -> Sequence[OrderSnapshot]:
        if not order_ids:
            return []
        return listing_of(await self.rest.query_orders(list(order_ids)), self._symbol)

    async def trades_history(self, since_ns: int) -> Sequence[Fill]:
        found = await self.rest.trades_history_all(start=since_ns // _NS)
        out: list[Fill] = []
        for trade in found:
            symbol = self._symbol(trade.pair)
            out.append(fill_of(trade, self.instruments.get(symbol), symbol))
        return out

    async def balances(self) -> Mapping[str, Decimal]:
        found = await self.rest.balance()
        totals: dict[str, Decimal] = {}
        for entry in found.entries:
            if not entry.wallet:  # spot only; earn wallets cannot pay for orders
                totals[entry.asset] = totals.get(entry.asset, Decimal(0)) + entry.balance
        return totals

    async def events(self) -> AsyncIterator[AccountEvent | StateEvent]:
        async for event in self.session.events():
            if isinstance(event, ExecutionReport) and event.symbol:
                self._counter_pairs.learn(event.order_id, event.symbol)
            elif isinstance(event, RateCounter):
                self.observe_rate_counter(event)
            if isinstance(event, _ACCOUNT_OR_STATE):
                yield event

    def observe_rate_counter(self, counter: RateCounter) -> None:
        """Kraken's own per-pair counter keeps the client's trading-rate model honest.

        Same scale as the model: the executions ack's `maxratecount` equals the tier threshold
        (125 = Intermediate, docs guides/spot-ratelimits), so the reading is used unscaled."""
        for pair in self._counter_pairs.pairs_for(counter, self.instruments):
            self.rest.observe_trading_counter(pair, float(counter.count))


# What the private session delivers (market events never come from it; ignored if they did).
_ACCOUNT_OR_STATE = (
    ExecutionReport,
    BalanceChange,
    OrderAccepted,
    OrderRejected,
    CancelRejected,
    SystemStatusChanged,
    ConnectionChanged,
    ReconcileRequested,
    RateCounter,
    DecodeFailed,
    SubscriptionFailed,
)
