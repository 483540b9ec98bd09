"""The simulator's REST surface over real loopback HTTP: public data, auth, orders."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
from simtest_helpers import RestClient, kraken_sign

from krakenbot.sim import Sim


async def test_public_endpoints_answer_with_kraken_shapes(rest: RestClient) -> None:
    t = await rest.public("Time")
    assert t["error"] == [] and isinstance(t["result"]["unixtime"], int)
    pairs = (await rest.public("AssetPairs", pair="XLMUSD,XXBTZUSD"))["result"]
    assert set(pairs) == {"XXLMZUSD", "XXBTZUSD"}
    assert pairs["XXBTZUSD"]["wsname"] == "XBT/USD"
    assert pairs["XXLMZUSD"]["pair_decimals"] == 6
    assert (await rest.public("AssetPairs", pair="NOPE"))["error"] == ["EQuery:Unknown asset pair"]
    depth = (await rest.public("Depth", pair="XXLMZUSD", count=5))["result"]["XXLMZUSD"]
    assert len(depth["asks"]) == 5
    assert Decimal(depth["asks"][0][0]) > Decimal(depth["bids"][0][0])
    status = (await rest.public("SystemStatus"))["result"]
    assert status["status"] == "online"
    assert (await rest.public("Nope"))["error"] == ["EGeneral:Unknown method"]


async def test_auth_errors_are_kraken_exact(sim: Sim, rest: RestClient) -> None:
    async def err(resp: aiohttp.ClientResponse) -> list[str]:
        async with resp:
            return (await resp.json())["error"]  # type: ignore[no-any-return]

    assert await err(await rest.raw_private("Balance", {}, key="nope")) == ["EAPI:Invalid key"]
    assert await err(await rest.raw_private("Balance", {}, sign_override="AAAA")) == [
        "EAPI:Invalid signature"
    ]
    good = rest.next_nonce()
    assert await err(await rest.raw_private("Balance", {}, nonce=good)) == []
    assert await err(await rest.raw_private("Balance", {}, nonce=good)) == ["EAPI:Invalid nonce"]
    # JSON bodies are signed over the exact bytes too.
    assert await err(await rest.raw_private("Balance", {}, as_json=True)) == []


async def test_signature_vector_from_the_docs_verifies() -> None:
    sig = kraken_sign(
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
        "/0/private/AddOrder",
        "1616492376594",
        b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
    )
    assert sig == (
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    )


async def test_limit_order_rests_then_fills_when_market_crosses(sim: Sim, rest: RestClient) -> None:
    res = await rest.ok(
        "AddOrder",
        pair="XLMUSD",
        type="buy",
        ordertype="limit",
        price="0.280000",
        volume="40",
        cl_ord_id="my-order-1",
    )
    (txid,) = res["txid"]
    assert res["descr"]["order"] == "buy 40.00000000 XLMUSD @ limit 0.280000"
    open_ = (await rest.ok("OpenOrders"))["open"]
    assert open_[txid]["status"] == "open" and open_[txid]["cl_ord_id"] == "my-order-1"
    ex = (await rest.ok("BalanceEx"))["ZUSD"]
    assert Decimal(ex["hold_trade"]) == Decimal("11.2448")  # 40 * 0.28 * 1.004, rounded up
    sim.control.set_mid("XLM/USD", Decimal("0.27"))
    order = (await rest.ok("QueryOrders", txid=txid, trades="true"))[txid]
    assert order["status"] == "closed" and order["vol_exec"] == "40.00000000"
    assert order["cost"] == "11.2000" and order["fee"] == "0.0280"  # maker 0.25 %
    trades = (await rest.ok("TradesHistory"))["trades"]
    (trade,) = trades.values()
    assert trade["maker"] is True and trade["ordertxid"] == txid and trade["pair"] == "XXLMZUSD"
    bal = await rest.ok("Balance")
    assert bal["ZUSD"] == "988.7720" and bal["XXLM"] == "540.00000000"


async def test_market_order_pays_taker_fee_and_cancel_by_userref(rest: RestClient) -> None:
    res = await rest.ok("AddOrder", pair="XBTUSD", type="sell", ordertype="market", volume="0.001")
    (txid,) = res["txid"]
    order = (await rest.ok("QueryOrders", txid=txid))[txid]
    assert order["status"] == "closed"
    assert Decimal(order["fee"]) == (Decimal(order["cost"]) * Decimal("0.004")).quantize(
        Decimal("0.0001")
    )
    res = await rest.ok(
        "AddOrder",
        pair="XBTUSD",
        type="buy",
        ordertype="limit",
        price="50000.0",
        volume="0.0002",
        userref="77",
    )
    assert (await rest.ok("CancelOrder", txid="77")) == {"count": 1}
    assert (await rest.private("CancelOrder", txid="77"))["error"] == ["EOrder:Unknown order"]
