"""The live market feed: public WebSocket v2 books/tickers/trades plus REST AssetPairs.

Owns: `KrakenFeed` (implements `ports.MarketFeed`). Imports: net, domain, errors. Must not
import: engine, orders, risk, store. Books it yields are verified by the session's CRC32
checks (docs: websocket-v2/book); `BookTop.verified` tells the engine whether to trust one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from krakenbot.domain.enums import Channel
from krakenbot.domain.events import (
    BookStatus,
    BookTop,
    Candle,
    ConnectionChanged,
    DecodeFailed,
    MarketEvent,
    MarketTrade,
    ReconcileRequested,
    StateEvent,
    SubscriptionFailed,
    SystemStatusChanged,
    Ticker,
)
from krakenbot.domain.instrument import Instrument
from krakenbot.errors import ConfigError
from krakenbot.net.rest_client import RestClient
from krakenbot.net.ws_session import WsSession

_MARKET_OR_STATE = (
    BookTop,
    BookStatus,
    Ticker,
    MarketTrade,
    Candle,
    SystemStatusChanged,
    ConnectionChanged,
    ReconcileRequested,
    DecodeFailed,
    SubscriptionFailed,
)


class KrakenFeed:
    """`ports.MarketFeed` over a public-only `WsSession` and a (keyless) `RestClient`."""

    def __init__(self, rest: RestClient, session: WsSession) -> None:
        self.rest = rest
        self.session = session

    async def run(self) -> None:
        """Serve the public WebSocket until `stop()`."""
        await self.session.run()

    def stop(self) -> None:
        self.session.stop()

    async def wait_connected(self) -> None:
        await self.session.wait_connected(Channel.PUBLIC)

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        every = await self.rest.asset_pairs()
        missing = [s for s in symbols if s not in every]
        if missing:
            raise ConfigError(f"Kraken does not list the pair(s) {', '.join(missing)}")
        return {s: every[s] for s in symbols}

    async def events(self) -> AsyncIterator[MarketEvent | StateEvent]:
        async for event in self.session.events():
            if isinstance(event, _MARKET_OR_STATE):
                yield event
