"""TradeVolume over loopback and the fee the sim charges: the account's 30-day USD volume,
per-pair fees only when `pair` is given, and fills charged at the tier that volume reaches
(tests/data/sim/real_messages/SOURCES.md for the documented example)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal

import aiohttp
import pytest
from simtest_helpers import RestClient
from test_sim_conformance import real

from krakenbot.sim import SimConfig, running_sim


@pytest.fixture
async def rest(session: aiohttp.ClientSession) -> AsyncIterator[RestClient]:
    cfg = SimConfig(balances={"USD": Decimal("60000")}, rest_rate_limit=False)
    async with running_sim(cfg) as running:
        running.control.pause_feed()
        yield RestClient(session, running.rest_url, running.api_key, running.api_secret)


async def _market_buy(rest: RestClient, volume: str) -> dict[str, str]:
    (txid,) = (
        await rest.ok("AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume=volume)
    )["txid"]
    order: dict[str, str] = (await rest.ok("QueryOrders", txid=txid))[txid]
    assert order["status"] == "closed"
    return order


def _fee(order: dict[str, str], pct: str) -> Decimal:
    return (Decimal(order["cost"]) * Decimal(pct) / 100).quantize(Decimal("0.0001"), ROUND_HALF_UP)


async def test_volume_sets_the_tier_shown_and_charged(rest: RestClient) -> None:
    docs = real("rest_tradevolume__docs.json")["result"]
    fresh = await rest.ok("TradeVolume")
    assert fresh == {"currency": "ZUSD", "volume": "0.0000"}  # no pair: no fees
    first = await _market_buy(rest, "0.1")  # ~ USD 10,600 at tier 0 (0.40 % taker)
    assert Decimal(first["fee"]) == _fee(first, "0.4")
    after = await rest.ok("TradeVolume", pair="XBT/USD,XLMUSD")
    assert set(after) == set(docs)
    assert Decimal(after["volume"]) == Decimal(first["cost"]) >= 10000
    assert list(after["fees"]) == ["XXBTZUSD", "XXLMZUSD"] == list(after["fees_maker"])
    for side in ("fees", "fees_maker"):
        theirs = docs[side]["XXBTZUSD"]
        for ours in after[side].values():
            assert set(ours) == set(theirs)
            assert all(isinstance(v, str) for v in ours.values())  # below the top tier
    assert after["fees"]["XXBTZUSD"]["fee"] == "0.3500"
    assert after["fees"]["XXBTZUSD"]["tiervolume"] == "10000.0000"
    assert after["fees"]["XXBTZUSD"]["nextvolume"] == "50000.0000"
    assert after["fees_maker"]["XXBTZUSD"]["fee"] == "0.2000"
    second = await _market_buy(rest, "0.01")  # now charged at tier 1 (0.35 % taker)
    assert Decimal(second["fee"]) == _fee(second, "0.35") != _fee(second, "0.4")
    total = await rest.ok("TradeVolume")
    assert Decimal(total["volume"]) == Decimal(first["cost"]) + Decimal(second["cost"])
    assert (await rest.private("TradeVolume", pair="NOPE"))["error"] == [
        "EQuery:Unknown asset pair"
    ]
