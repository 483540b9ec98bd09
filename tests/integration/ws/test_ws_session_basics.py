"""The session against the simulator: connect, subscribe, verified books, private snapshot."""

from __future__ import annotations

from tests.integration.ws.ws_helpers import session_running

from krakenbot.domain.enums import Channel, ConnectionState
from krakenbot.domain.events import (
    BalanceChange,
    BookStatus,
    BookTop,
    ConnectionChanged,
    SystemStatusChanged,
    Ticker,
)
from krakenbot.sim import Sim


async def test_public_and_private_come_up_with_verified_books(sim: Sim) -> None:
    async with session_running(sim) as (session, events):
        await events.wait_for(
            lambda e: (
                isinstance(e, ConnectionChanged)
                and e.channel is Channel.PUBLIC
                and e.state is ConnectionState.CONNECTED
            )
        )
        await events.wait_for(lambda e: isinstance(e, SystemStatusChanged))
        await events.wait_for(lambda e: isinstance(e, BookStatus) and e.verified)
        top = await events.wait_for(lambda e: isinstance(e, BookTop) and e.verified)
        assert isinstance(top, BookTop) and top.symbol == "XLM/USD"
        assert top.best_bid is not None and top.best_ask is not None
        assert top.best_bid < top.best_ask
        await events.wait_for(lambda e: isinstance(e, Ticker))
        await events.wait_for(lambda e: isinstance(e, BalanceChange) and e.is_snapshot)
        # Several book updates later, still no failures.
        await events.wait_for(lambda e: isinstance(e, BookTop), after=len(events.events))
        assert session.stats.book_failures == 0
        assert not [e for e in events.of(BookStatus) if not e.verified]
