"""The sim streams the trading counter on `executions` only when asked (`ratecounter: true`).

Facts it follows: docs websocket-v2/executions ("If true, the rate-limit counter is included in
the stream", default false), guides/spot-ratelimits (per-pair counter: add +1, cancel of an
order younger than 5 s +8, starter decay 1/s). The field name `ratecount` is the sim's choice
(the docs name none; it mirrors the ack's `maxratecount`). Raw JSON over loopback, ManualClock.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
from simtest_helpers import RestClient, WsClient, is_channel, is_method

from krakenbot.sim import Sim


def _rows(msgs: list[Any], kind: str = "update") -> list[dict[str, Any]]:
    return [row for m in msgs if is_channel("executions", kind)(m) for row in m["data"]]


async def _subscribe(
    session: aiohttp.ClientSession, sim: Sim, token: str, **flags: Any
) -> WsClient:
    c = await WsClient.connect(session, sim.ws_auth_url)
    await c.send("subscribe", channel="executions", token=token, **flags)
    ack = await c.until(is_method("subscribe"))
    assert ack["success"] and ack["result"]["maxratecount"] == 60  # starter threshold
    snapshot = await c.until(is_channel("executions", "snapshot"))
    assert all("ratecount" not in row for row in snapshot["data"])
    return c


async def test_counter_rides_on_each_update_for_subscribers_who_asked(
    msim: Sim, mrest: RestClient, session: aiohttp.ClientSession
) -> None:
    token = (await mrest.ok("GetWebSocketsToken"))["token"]
    counted = await _subscribe(session, msim, token, ratecounter=True)
    plain = await _subscribe(session, msim, token)

    async def add() -> str:
        await counted.send(
            "add_order",
            token=token,
            order_type="limit",
            side="buy",
            order_qty=40,
            limit_price=0.05,
            symbol="XLM/USD",
        )
        ack = await counted.until(is_method("add_order"))
        assert ack["success"], ack
        return str(ack["result"]["order_id"])

    first = await add()
    await counted.send("cancel_order", token=token, order_id=[first])
    await counted.until(
        lambda m: is_channel("executions")(m) and m["data"][0].get("exec_type") == "canceled"
    )
    msim.control.advance(2.0)  # starter decay: 1 per second
    second = await add()
    await counted.until(
        lambda m: (
            is_channel("executions")(m)
            and m["data"][0].get("exec_type") == "new"
            and m["data"][0]["order_id"] == second
        )
    )

    rows = _rows(counted.seen)
    got = [(r["exec_type"], r["order_id"], Decimal(str(r["ratecount"]))) for r in rows]
    assert got == [
        ("pending_new", first, Decimal(1)),
        ("new", first, Decimal(1)),
        ("canceled", first, Decimal(9)),  # +8: canceled younger than 5 s
        ("pending_new", second, Decimal(8)),  # 9 - 2 s of decay + 1
        ("new", second, Decimal(8)),
    ]
    # The reports keep their own shape: only pending_new names the pair.
    assert [("symbol" in r) for r in rows] == [True, False, False, True, False]
    assert msim.control.trading_counter(msim.api_key, "XLM/USD") == Decimal(8)

    await plain.until(
        lambda m: (
            is_channel("executions")(m)
            and m["data"][0].get("order_id") == second
            and m["data"][0].get("exec_type") == "new"
        )
    )
    plain_rows = _rows(plain.seen)
    assert len(plain_rows) == 5 and all("ratecount" not in r for r in plain_rows)
    await counted.close()
    await plain.close()
