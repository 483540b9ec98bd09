"""Public market-data fan-out for the WebSocket shell (pure bookkeeping, no sockets).

Owns: `BookGroup` (the last top-N a (symbol, depth) group of subscribers was sent, and the
diff to the live book as one v2 `book` update with its checksum) and `MarketWatch` (which
trades / candle / best prices of a pair were already pushed). Rendering is in wire_ws.py.
Imports: stdlib and sim.* only.
Book rule: docs guides/spot-ws-book-v2 — updates carry changed levels and `qty 0` deletes;
levels that merely fall out of the subscribed depth are not deleted (the client truncates).
"""

from __future__ import annotations

from decimal import Decimal

from krakenbot.sim import wire_ws
from krakenbot.sim.market import Market

Level = tuple[Decimal, Decimal]


class BookGroup:
    def __init__(self, market: Market, depth: int) -> None:
        self.market = market
        self.depth = depth
        self.asks: dict[Decimal, Decimal] = dict(market.asks.top(depth))
        self.bids: dict[Decimal, Decimal] = dict(market.bids.top(depth))

    def snapshot(self, now_ns: int) -> wire_ws.Json:
        m = self.market
        asks, bids = m.asks.top(self.depth), m.bids.top(self.depth)
        self.asks, self.bids = dict(asks), dict(bids)
        spec = m.spec
        return wire_ws.book_msg(
            spec.symbol,
            "snapshot",
            asks=wire_ws.level_text(spec, asks),
            bids=wire_ws.level_text(spec, bids),
            checksum=wire_ws.checksum_of(spec, asks, bids),
            now_ns=m.last_change_ns,
        )

    @staticmethod
    def _diff(
        old: dict[Decimal, Decimal], new: list[Level], full: dict[Decimal, Decimal]
    ) -> list[Level]:
        changes = [(p, q) for p, q in new if old.get(p) != q]
        changes.extend((p, Decimal(0)) for p in old if p not in full)
        return changes

    def update(self, now_ns: int, *, corrupt: bool = False) -> wire_ws.Json | None:
        m = self.market
        asks, bids = m.asks.top(self.depth), m.bids.top(self.depth)
        ask_changes = self._diff(self.asks, asks, m.asks.levels)
        bid_changes = self._diff(self.bids, bids, m.bids.levels)
        if not ask_changes and not bid_changes:
            return None
        self.asks, self.bids = dict(asks), dict(bids)
        spec = m.spec
        checksum = wire_ws.checksum_of(spec, asks, bids)
        if corrupt:
            checksum ^= 0x5A5A5A5A
        return wire_ws.book_msg(
            spec.symbol,
            "update",
            asks=wire_ws.level_text(spec, ask_changes),
            bids=wire_ws.level_text(spec, bid_changes),
            checksum=checksum,
            now_ns=now_ns,
        )


class MarketWatch:
    """What of one market has already been pushed (trades, candle, best prices)."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.last_trade_id = market.next_trade_id - 1
        self.bbo = self._bbo()

    def _bbo(self) -> tuple[object, ...]:
        m = self.market
        ask, bid = m.asks.best(), m.bids.best()
        return (
            ask,
            m.asks.levels.get(ask) if ask else None,
            bid,
            m.bids.levels.get(bid) if bid else None,
        )

    def new_trades(self) -> list[wire_ws.Json]:
        m = self.market
        fresh = []
        for t in reversed(m.trades):  # newest first; stop at the first one already pushed
            if t.trade_id <= self.last_trade_id:
                break
            fresh.append(t)
        if not fresh:
            return []
        self.last_trade_id = fresh[0].trade_id
        return [wire_ws.trade_row(m.spec, t) for t in reversed(fresh)]

    def bbo_changed(self) -> bool:
        bbo = self._bbo()
        changed = bbo != self.bbo
        self.bbo = bbo
        return changed
