"""Every pair-name form Kraken accepts, over loopback: the canonical id (`XXLMZUSD`), the
altname (`XLMUSD`) and the WS name (`XLM/USD`), each answered under the key Kraken uses for
that form, with the keys and value types of the real payload of the same kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from simtest_helpers import RestClient
from test_sim_conformance import real, same_shape

from krakenbot.sim import Sim, SimConfig, running_sim

# (canonical id, altname, WS name) of two pairs whose three names all differ or not.
FORMS = [("XXLMZUSD", "XLMUSD", "XLM/USD"), ("XXBTZUSD", "XBTUSD", "XBT/USD")]
ASSET_PAIR = real("rest_assetpairs_xethxxbt_xxbtzusd__docs_spec.json")["result"]["XXBTZUSD"]


@pytest.fixture
async def unpaced(session: aiohttp.ClientSession) -> AsyncIterator[tuple[Sim, RestClient]]:
    """A sim without Kraken's public Trades/OHLC pacing: one test asks many times."""
    async with running_sim(SimConfig(public_rate_limit=False)) as running:
        running.control.pause_feed()
        yield running, RestClient(session, running.rest_url, running.api_key, running.api_secret)


@pytest.mark.parametrize(("rest_id", "altname", "wsname"), FORMS)
async def test_asset_pairs_answer_each_form_under_its_kraken_key(
    rest: RestClient, rest_id: str, altname: str, wsname: str
) -> None:
    for asked, key in ((rest_id, rest_id), (altname, rest_id), (wsname, wsname)):
        result = (await rest.public("AssetPairs", pair=asked))["result"]
        assert list(result) == [key], asked
        same_shape(result[key], ASSET_PAIR)
        assert result[key]["altname"] == altname and result[key]["wsname"] == wsname
    # A comma list mixing the forms keys each pair by the form it was asked in.
    both = (await rest.public("AssetPairs", pair=f"{wsname},{altname}"))["result"]
    assert set(both) == {wsname, rest_id}
    assert both[wsname] == both[rest_id]


async def test_asset_pairs_without_a_filter_key_by_canonical_id(rest: RestClient) -> None:
    result = (await rest.public("AssetPairs"))["result"]
    assert {"XXLMZUSD", "XXBTZUSD"} <= set(result) and not any("/" in k for k in result)


@pytest.mark.parametrize(("rest_id", "altname", "wsname"), FORMS)
async def test_market_data_accepts_each_form_and_keys_by_canonical_id(
    unpaced: tuple[Sim, RestClient], rest_id: str, altname: str, wsname: str
) -> None:
    sim, rest = unpaced
    sim.control.tick_feed(30)
    refs: dict[str, tuple[dict[str, Any], Any]] = {
        "Ticker": ({}, real("rest_ticker_xxbtzusd__docs.json")["result"]["XXBTZUSD"]),
        "Depth": ({"count": 3}, real("rest_depth_xxbtzusd__docs.json")["result"]["XXBTZUSD"]),
        "Trades": ({}, real("rest_trades_xxbtzusd__docs.json")["result"]["XXBTZUSD"]),
        "OHLC": ({}, real("rest_ohlc_xxbtzusd__docs.json")["result"]["XXBTZUSD"]),
    }
    for method, (extra, ref) in refs.items():
        for asked in (rest_id, altname, wsname, altname.lower()):
            reply = await rest.public(method, pair=asked, **extra)
            assert reply["error"] == [], (method, asked)
            assert set(reply["result"]) - {"last"} == {rest_id}, (method, asked)
            same_shape(reply["result"][rest_id], ref)


async def test_unknown_pair_names_are_refused_in_every_method(
    unpaced: tuple[Sim, RestClient],
) -> None:
    _, rest = unpaced
    for method in ("AssetPairs", "Ticker", "Depth", "Trades", "OHLC"):
        for bad in ("XLM/EUR", "XLMUSDX", "XLM-USD"):
            assert (await rest.public(method, pair=bad))["error"] == ["EQuery:Unknown asset pair"]
