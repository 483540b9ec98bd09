"""Ledgers and QueryLedgers over loopback: one entry per balance change (the starting
balances as deposits, both assets of every fill, the fee on the side that paid it), running
balances that add up to the sim's own Balance, Kraken's filters and 50-entry pages, and the
documented examples' keys and value types (tests/data/sim/real_messages/SOURCES.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from simtest_helpers import RestClient
from test_sim_conformance import real, same_shape

from krakenbot.sim import SimConfig, running_sim
from krakenbot.sim.ledger_query import MAX_QUERY_LEDGERS

START = {"USD": Decimal("5000"), "XLM": Decimal("300")}


@pytest.fixture
async def rest(session: aiohttp.ClientSession) -> AsyncIterator[RestClient]:
    """A sim without the REST call counter: the tests page through many ledger entries."""
    async with running_sim(SimConfig(balances=START, rest_rate_limit=False)) as running:
        running.control.pause_feed()
        yield RestClient(session, running.rest_url, running.api_key, running.api_secret)


async def _trade(rest: RestClient) -> None:
    """Fills on both sides, one of them paying its fee in base (`fcib`)."""
    await rest.ok("AddOrder", pair="XLMUSD", type="buy", ordertype="market", volume="400")
    await rest.ok(
        "AddOrder", pair="XLMUSD", type="sell", ordertype="market", volume="200", oflags="fcib"
    )


async def _all_entries(rest: RestClient) -> list[tuple[str, dict[str, Any]]]:
    """Every entry, oldest first, paged 50 at a time."""
    first = await rest.ok("Ledgers")
    rows: list[tuple[str, dict[str, Any]]] = []
    for ofs in range(0, first["count"], 50):
        page = (await rest.ok("Ledgers", ofs=str(ofs)))["ledger"]
        assert len(page) == min(50, first["count"] - ofs)
        rows.extend(page.items())
    assert len({lid for lid, _ in rows}) == first["count"]
    return rows[::-1]


async def test_running_balances_add_up_to_the_balance(rest: RestClient) -> None:
    for _ in range(3):
        await _trade(rest)
    entries = await _all_entries(rest)
    deposits = [e for _, e in entries if e["type"] == "deposit"]
    assert {e["asset"]: Decimal(e["amount"]) for e in deposits} == {
        "ZUSD": START["USD"],
        "XXLM": START["XLM"],
    }
    running: dict[str, Decimal] = {}
    for _, e in entries:
        running[e["asset"]] = (
            running.get(e["asset"], Decimal(0)) + Decimal(e["amount"]) - Decimal(e["fee"])
        )
        assert Decimal(e["balance"]) == running[e["asset"]]
    balance = await rest.ok("Balance")
    assert {a: Decimal(v) for a, v in balance.items() if a in running} == running
    history = await rest.ok("TradesHistory")
    trades = [e for _, e in entries if e["type"] == "trade"]
    assert len(trades) == 2 * history["count"]
    for txid, trade in history["trades"].items():
        legs = {e["asset"]: e for e in trades if e["refid"] == txid}
        assert set(legs) == {"XXLM", "ZUSD"}
        base_fee, quote_fee = Decimal(legs["XXLM"]["fee"]), Decimal(legs["ZUSD"]["fee"])
        assert base_fee + quote_fee == Decimal(trade["fee"]) > 0
        assert (base_fee == 0) != (quote_fee == 0)
        sign = 1 if trade["type"] == "buy" else -1
        assert Decimal(legs["XXLM"]["amount"]) == sign * Decimal(trade["vol"])
        assert Decimal(legs["ZUSD"]["amount"]) == -sign * Decimal(trade["cost"])
    assert any(Decimal(e["fee"]) > 0 for e in trades if e["asset"] == "XXLM")  # fcib


async def test_entries_have_the_documented_shape(rest: RestClient) -> None:
    await _trade(rest)
    docs = real("rest_ledgers__docs.json")
    reply = await rest.private("Ledgers")
    assert reply["error"] == [] and set(reply["result"]) == set(docs["result"])
    assert isinstance(reply["result"]["count"], int)
    theirs = next(iter(docs["result"]["ledger"].values()))
    for ours in reply["result"]["ledger"].values():
        same_shape(ours, theirs)
    ids = list(reply["result"]["ledger"])
    one = real("rest_queryledgers__docs.json")
    queried = await rest.private("QueryLedgers", id=",".join(ids[:3][::-1]))
    assert queried["error"] == [] and set(queried) == set(one)
    same_shape(next(iter(queried["result"].values())), next(iter(one["result"].values())))
    assert list(queried["result"]) == ids[:3][::-1]
    for lid in ids[:3]:
        assert queried["result"][lid] == reply["result"]["ledger"][lid]


async def test_filters_and_window(rest: RestClient) -> None:
    await _trade(rest)
    await _trade(rest)
    entries = await _all_entries(rest)
    xlm = await rest.ok("Ledgers", asset="XLM")
    assert xlm["count"] == sum(1 for _, e in entries if e["asset"] == "XXLM")
    assert {e["asset"] for e in xlm["ledger"].values()} == {"XXLM"}
    both = await rest.ok("Ledgers", asset="XXLM,ZUSD")
    assert both["count"] == len(entries)
    deposits = await rest.ok("Ledgers", type="deposit")
    assert deposits["count"] == 2 and {e["type"] for e in deposits["ledger"].values()} == {
        "deposit"
    }
    trades = await rest.ok("Ledgers", type="trade")
    assert trades["count"] == len(entries) - 2
    assert (await rest.ok("Ledgers", type="withdrawal"))["count"] == 0
    assert (await rest.ok("Ledgers", aclass="forex"))["count"] == 0
    assert (await rest.private("Ledgers", type="swap"))["error"] == [
        "EGeneral:Invalid arguments:type"
    ]
    assert (await rest.private("Ledgers", asset="XLM,NOPE"))["error"] == ["EQuery:Unknown asset"]
    # start (exclusive) / end (inclusive) by ledger id: the entries booked after the first
    # trade entry's time, up to the newest.
    first_trade_id, first_trade = next((lid, e) for lid, e in entries if e["type"] == "trade")
    after = await rest.ok("Ledgers", start=first_trade_id)
    assert after["count"] == sum(1 for _, e in entries if e["time"] > first_trade["time"])
    upto = await rest.ok("Ledgers", end=first_trade_id)
    assert upto["count"] == sum(1 for _, e in entries if e["time"] <= first_trade["time"])
    assert (await rest.private("Ledgers", start="LAAAAA-BBBBB-CCCCCC"))["error"] == [
        "EGeneral:Invalid arguments:start"
    ]


async def test_pages_of_fifty_newest_first(rest: RestClient) -> None:
    while (await rest.ok("Ledgers"))["count"] <= 50:
        await _trade(rest)
    entries = await _all_entries(rest)  # asserts the page sizes
    times = [e["time"] for _, e in entries]
    assert times == sorted(times)
    beyond = await rest.ok("Ledgers", ofs=str(len(entries)))
    assert beyond["ledger"] == {} and beyond["count"] == len(entries)


async def test_query_ledgers_refuses_missing_unknown_or_too_many_ids(rest: RestClient) -> None:
    while (await rest.ok("Ledgers"))["count"] <= MAX_QUERY_LEDGERS:
        await _trade(rest)
    ids = [lid for lid, _ in await _all_entries(rest)]
    assert (
        len(await rest.ok("QueryLedgers", id=",".join(ids[:MAX_QUERY_LEDGERS])))
        == MAX_QUERY_LEDGERS
    )
    bad = ["EGeneral:Invalid arguments:id"]
    assert (await rest.private("QueryLedgers"))["error"] == bad
    assert (await rest.private("QueryLedgers", id=",".join(ids[: MAX_QUERY_LEDGERS + 1])))[
        "error"
    ] == bad
    assert (await rest.private("QueryLedgers", id=f"{ids[0]},LAAAAA-BBBBB-CCCCCC"))["error"] == bad
    trade_id = (await rest.ok("TradesHistory"))["trades"].popitem()[0]
    assert (await rest.private("QueryLedgers", id=trade_id))["error"] == bad
