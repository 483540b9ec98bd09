"""The simulator's public `Spread` and `Assets` over loopback, pinned to Kraken's documented
example responses (tests/data/sim/real_messages/SOURCES.md)."""

from __future__ import annotations

from decimal import Decimal

from simtest_helpers import RestClient
from test_sim_conformance import real, same_shape

from krakenbot.sim import Sim
from krakenbot.sim.spreads import MAX_SPREADS


async def test_spread_has_the_documented_shape_and_follows_the_touch(
    sim: Sim, rest: RestClient
) -> None:
    first = await rest.public("Spread", pair="XBTUSD")
    same_shape(first, real("rest_spread_xxbtzusd__docs.json"))
    (row,) = first["result"]["XXBTZUSD"]  # the touch as it is now
    market = sim.state.exchange.markets["BTC/USD"]
    assert (Decimal(row[1]), Decimal(row[2])) == (market.bids.best(), market.asks.best())
    assert row[1] == f"{market.bids.best():.5f}"  # docs: 5 decimals for a 1-decimal pair
    assert first["result"]["last"] == row[0]
    sim.control.set_mid("BTC/USD", Decimal("107000.0"))
    rows = (await rest.public("Spread", pair="XBTUSD"))["result"]["XXBTZUSD"]
    assert len(rows) == 2 and Decimal(rows[-1][1]) > Decimal(row[1])
    assert all(Decimal(bid) < Decimal(ask) for _, bid, ask in rows)


async def test_spread_accepts_every_pair_name_and_keys_by_canonical_id(rest: RestClient) -> None:
    for asked in ("XXLMZUSD", "XLMUSD", "XLM/USD"):
        result = (await rest.public("Spread", pair=asked))["result"]
        assert set(result) == {"XXLMZUSD", "last"}, asked
    refusals = (("NOPE", "EQuery:Unknown asset pair"), ("", "EGeneral:Invalid arguments:pair"))
    for bad, err in refusals:
        assert (await rest.public("Spread", pair=bad))["error"] == [err]
    bad_since = await rest.public("Spread", pair="XLMUSD", since="soon")
    assert bad_since["error"] == ["EGeneral:Invalid arguments:since"]


async def test_spread_since_lists_only_newer_rows_and_keeps_the_last_200(
    sim: Sim, rest: RestClient
) -> None:
    for step in range(MAX_SPREADS + 50):  # each move shifts the touch: one row each
        sim.control.set_mid("BTC/USD", Decimal("106000.0") + step)
    result = (await rest.public("Spread", pair="XBTUSD"))["result"]
    rows = result["XXBTZUSD"]
    assert len(rows) == MAX_SPREADS
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    cursor = result["last"]
    again = (await rest.public("Spread", pair="XBTUSD", since=cursor))["result"]
    assert again["XXBTZUSD"] == [] and again["last"] == cursor
    older = rows[0][0] - 1
    assert len((await rest.public("Spread", pair="XBTUSD", since=older))["result"]["XXBTZUSD"]) == (
        MAX_SPREADS
    )


async def test_assets_have_the_documented_shape(rest: RestClient) -> None:
    docs = real("rest_assets__docs.json")
    everything = await rest.public("Assets")
    assert {"XXBT", "ZUSD", "XXLM"} <= set(everything["result"])
    picked = await rest.public("Assets", asset="XBT,EUR")
    same_shape(picked, docs)
    assert picked["result"] == docs["result"]  # same values as Kraken's example for these two
    for spelling in ("BTC", "XXBT", "xbt"):
        assert list((await rest.public("Assets", asset=spelling))["result"]) == ["XXBT"]
    assert (await rest.public("Assets", asset="NOPE"))["error"] == ["EQuery:Unknown asset"]
