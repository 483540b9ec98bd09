"""QueryTrades over loopback: the trades asked by id, each the same record TradesHistory lists,
with the documented example's keys and value types (tests/data/sim/real_messages/SOURCES.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from simtest_helpers import RestClient
from test_sim_conformance import real, same_shape

from krakenbot.sim import SimConfig, running_sim
from krakenbot.sim.history_query import MAX_QUERY_TRADES


@pytest.fixture
async def rest(session: aiohttp.ClientSession) -> AsyncIterator[RestClient]:
    """A sim without the REST call counter: the test asks TradesHistory between many orders."""
    cfg = SimConfig(balances={"USD": Decimal("5000")}, rest_rate_limit=False)
    async with running_sim(cfg) as running:
        running.control.pause_feed()
        yield RestClient(session, running.rest_url, running.api_key, running.api_secret)


async def _trades(rest: RestClient, at_least: int) -> dict[str, dict[str, object]]:
    """Market buys of XLM until the account has `at_least` trades (each sweeps book levels)."""
    for _ in range(at_least):
        trades: dict[str, dict[str, object]] = (await rest.ok("TradesHistory"))["trades"]
        if len(trades) >= at_least:
            return trades
        await rest.ok("AddOrder", pair="XLMUSD", type="buy", ordertype="market", volume="400")
    raise AssertionError(f"fewer than {at_least} trades after {at_least} market orders")


async def test_query_trades_answers_the_trades_history_records_by_id(rest: RestClient) -> None:
    history = await _trades(rest, MAX_QUERY_TRADES + 1)
    ids = list(history)
    docs = real("rest_querytrades__docs.json")
    reply = await rest.private("QueryTrades", txid=",".join(ids[:3]))
    assert reply["error"] == [] and set(reply) == set(docs)
    for ours, theirs in zip(reply["result"].values(), docs["result"].values(), strict=False):
        same_shape(ours, theirs)
    assert list(reply["result"]) == ids[:3]
    for txid in ids[:3]:
        assert reply["result"][txid] == history[txid]
    one = await rest.ok("QueryTrades", txid=ids[-1], trades="true")
    assert one == {ids[-1]: history[ids[-1]]}
    assert (
        list(await rest.ok("QueryTrades", txid=",".join(ids[:MAX_QUERY_TRADES])))
        == ids[:MAX_QUERY_TRADES]
    )


async def test_query_trades_refuses_a_missing_unknown_or_too_long_id_list(rest: RestClient) -> None:
    ids = list(await _trades(rest, MAX_QUERY_TRADES + 1))
    bad = "EGeneral:Invalid arguments:txid"
    assert (await rest.private("QueryTrades"))["error"] == [bad]
    assert (await rest.private("QueryTrades", txid=" , "))["error"] == [bad]
    too_many = ",".join(ids[: MAX_QUERY_TRADES + 1])
    assert (await rest.private("QueryTrades", txid=too_many))["error"] == [bad]
    assert (await rest.private("QueryTrades", txid=f"{ids[0]},TAAAAA-BBBBB-CCCCCC"))["error"] == [
        bad
    ]
    # An order id is no trade id.
    order_txid = (await rest.ok("TradesHistory"))["trades"][ids[0]]["ordertxid"]
    assert (await rest.private("QueryTrades", txid=order_txid))["error"] == [bad]
