"""Circuit-breaker inputs: when do the seed's warning signs add up to a trip?

Owns: `BreakerPolicy`, which counts WebSocket disconnections, order execution failures,
balance inconsistencies and unexpected price jumps inside sliding windows and returns a
`Trip` decision. Imports: domain, risk. Must not import: resilience's breaker object or
net/ — the shell (engine) applies a `Trip` to the real breaker and the trading state.
Time is the `recv_ns` of the events it sees, never a clock read.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from krakenbot.domain.enums import ConnectionState
from krakenbot.domain.events import BookTop, ConnectionChanged, Event, OrderRejected
from krakenbot.risk.limits import BreakerLimits

_NS = 1_000_000_000
_Window = deque[tuple[int, Decimal]]
HUNDRED = Decimal(100)
_ONE = Decimal(1)
# Kraken's AddOrder error for a post-only order that would have matched on arrival.
_MARKET_MOVED = "EOrder:Post only order"


class Cause(StrEnum):
    WS_DISCONNECT = "ws_disconnect"
    ORDER_FAILURE = "order_failure"
    BALANCE_MISMATCH = "balance_mismatch"
    PRICE_JUMP = "price_jump"


@dataclass(frozen=True, slots=True)
class Trip:
    cause: Cause
    count: int
    detail: str
    at_ns: int


class BreakerPolicy:
    def __init__(self, limits: BreakerLimits) -> None:
        self.limits = limits
        self._events: dict[Cause, deque[int]] = {cause: deque() for cause in Cause}
        self._prices: dict[str, tuple[_Window, _Window]] = {}
        # Per limits: (them, 1 + band, 1 - band, the window in ns), worked out once.
        self._band: tuple[BreakerLimits | None, Decimal, Decimal, int] = (None, _ONE, _ONE, 0)

    def _threshold(self, cause: Cause) -> int:
        return {
            Cause.WS_DISCONNECT: self.limits.max_ws_disconnects,
            Cause.ORDER_FAILURE: self.limits.max_order_failures,
            Cause.BALANCE_MISMATCH: self.limits.max_balance_mismatches,
            Cause.PRICE_JUMP: 1,
        }[cause]

    def record(self, cause: Cause, now_ns: int, detail: str = "") -> Trip | None:
        """Count one occurrence; a Trip once the count in the window reaches the limit."""
        times = self._events[cause]
        times.append(now_ns)
        horizon = now_ns - int(self.limits.window_s * _NS)
        while times[0] <= horizon:
            times.popleft()
        if len(times) >= self._threshold(cause):
            return Trip(cause=cause, count=len(times), detail=detail, at_ns=now_ns)
        return None

    def observe_price(self, symbol: str, price: Decimal, now_ns: int) -> Trip | None:
        """A Trip when `price` is further than the band from some price in the window.

        Keeps monotonic deques of window minima and maxima, so each update is O(1)
        amortized: a jump exists iff price > min·(1+band) or price < max·(1-band).
        """
        if price <= 0:
            return None
        windows = self._prices.get(symbol)
        if windows is None:
            windows = self._prices[symbol] = (deque(), deque())
        lows, highs = windows
        limits = self.limits
        if self._band[0] is not limits:  # worked out once per limits, not per book
            band = limits.price_jump_pct / HUNDRED
            self._band = (limits, 1 + band, 1 - band, int(limits.price_window_s * _NS))
        _, up, down, window_ns = self._band
        horizon = now_ns - window_ns
        for window in windows:
            while window and window[0][0] <= horizon:
                window.popleft()
        low = lows[0][1] if lows else price
        high = highs[0][1] if highs else price
        while lows and lows[-1][1] >= price:
            lows.pop()
        lows.append((now_ns, price))
        while highs and highs[-1][1] <= price:
            highs.pop()
        highs.append((now_ns, price))
        if price > low * up:
            reference = low
        elif price < high * down:
            reference = high
        else:
            return None
        detail = f"{symbol} moved from {reference} to {price} within {self.limits.price_window_s} s"
        return self.record(Cause.PRICE_JUMP, now_ns, detail)

    def on_event(self, event: Event) -> Trip | None:
        """Feed the engine's inbound events; balance mismatches come from reconciliation
        through `record(Cause.BALANCE_MISMATCH, ...)`."""
        if isinstance(event, BookTop):  # the common case first (every book), its mid once
            mid = event.mid
            if event.verified and mid is not None:
                return self.observe_price(event.symbol, mid, event.recv_ns)
            return None
        if isinstance(event, ConnectionChanged):
            if event.state in (ConnectionState.RECONNECTING, ConnectionState.CLOSED):
                detail = f"{event.channel} websocket {event.state}: {event.reason}"
                return self.record(Cause.WS_DISCONNECT, event.recv_ns, detail)
            return None
        if isinstance(event, OrderRejected):
            if event.local:
                # Refused by our own breaker before it left: no news about the exchange,
                # and counting it would re-trip (and re-start the cooldown of) an open
                # breaker with its own refusals.
                return None
            if _MARKET_MOVED in event.error:
                # A post-only order the market reached before it did: refused so that it
                # would not take liquidity, as the order asked. The market's doing, not a
                # failure of the exchange's; a post-only strategy meets it every few minutes
                # in a fast market, and counting it tripped the breaker on a healthy venue.
                return None
            # Every order passed the gate first, so any other refusal by the exchange is
            # unexpected.
            detail = f"order {event.cl_ord_id} rejected: {event.error}"
            return self.record(Cause.ORDER_FAILURE, event.recv_ns, detail)
        return None
