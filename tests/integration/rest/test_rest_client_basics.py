"""The REST client against the loopback sim: signing, typed results, paging, errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from resttest_helpers import client, orders_with, post_only_buy, real_now_clock, sim_running

from krakenbot.clock import SystemClock
from krakenbot.domain.enums import OrderType, Side, SystemState
from krakenbot.errors import FatalExchangeError, RejectedError
from krakenbot.kraken.errors import RepeatedRejectionError
from krakenbot.kraken.rest_orders import OrderRequest


async def test_public_and_signed_private_calls_return_typed_results(tmp_path: Path) -> None:
    async with sim_running() as sim, client(sim, tmp_path, SystemClock()) as c:
        assert (await c.system_status()).status is SystemState.ONLINE
        assert (await c.server_time()).unixtime > 1_600_000_000
        insts = await c.asset_pairs(["XLMUSD", "XBTUSD"])
        assert insts["XLM/USD"].rest_id == "XXLMZUSD" and insts["BTC/USD"].wsname == "XBT/USD"
        assert c.pair_key("XLMUSD") == "XLM/USD" == c.pair_key("XXLMZUSD")
        ticker = (await c.ticker(["XXLMZUSD"]))["XXLMZUSD"]
        assert ticker.ask > ticker.bid > 0
        book = await c.depth("XLMUSD", 5)
        assert len(book.asks) == 5 and book.asks[0].price > book.bids[0].price
        bal = await c.balance()
        assert bal.available("USD") == Decimal("1000") and bal.available("XLM") == Decimal("500")
        ex = await c.balance_ex()
        assert ex.spot("BTC").balance == Decimal("0.01")
        token = await c.get_websockets_token()
        assert token.token and token.expires_s > 0


async def test_asset_pairs_named_by_ws_name_keep_krakens_own_id(tmp_path: Path) -> None:
    # Kraken keys AssetPairs?pair=XLM/USD under "XLM/USD" (the form asked): the client must
    # still learn each pair's own id (`flatten` names the pairs by their WS names).
    async with sim_running() as sim, client(sim, tmp_path, SystemClock()) as c:
        insts = await c.asset_pairs(["XLM/USD", "XBTUSD"])
        assert set(insts) == {"XLM/USD", "BTC/USD"}
        assert insts["XLM/USD"].rest_id == "XXLMZUSD" and insts["BTC/USD"].rest_id == "XXBTZUSD"


async def test_order_round_trip_and_idempotent_cancel(tmp_path: Path) -> None:
    async with sim_running() as sim, client(sim, tmp_path, SystemClock()) as c:
        req = post_only_buy()
        res = await c.add_order(req)
        assert res.txid and not res.recovered
        (open_,) = await c.open_orders(cl_ord_id=req.cl_ord_id)
        assert open_.txid == res.txid and open_.post_only and open_.price.absolute == Decimal("0.1")
        ex = await c.balance_ex()
        assert ex.spot("USD").hold >= Decimal("1")  # 10 × 0.1 (+ fee) held for the buy
        assert (await c.cancel_order(cl_ord_id=req.cl_ord_id)).count == 1
        assert (await c.cancel_order(cl_ord_id=req.cl_ord_id)).count == 0  # already gone
        assert (await c.cancel_order(txid=res.txid)).count == 0
        (closed,) = await c.closed_orders_all(cl_ord_id=req.cl_ord_id)
        assert closed.status == "canceled"
        (queried,) = await c.query_orders([res.txid])
        assert queried.cl_ord_id == req.cl_ord_id
        validated = await c.add_order(post_only_buy())
        assert validated.txid  # (a real order; validate path below)
        v = OrderRequest(
            "XLMUSD",
            Side.BUY,
            OrderType.LIMIT,
            Decimal(10),
            "val1",
            price=Decimal("0.1"),
            validate=True,
        )
        assert (await c.add_order(v)).txid is None and not orders_with(sim, "val1")
        assert (await c.cancel_all()).count == 1
        after = await c.cancel_all_orders_after(60)
        assert after.trigger_time
        assert sim.control.dead_man_trigger_ns() is not None
        await c.cancel_all_orders_after(0)


async def test_paging_follows_count_for_closed_orders_and_trades(tmp_path: Path) -> None:
    clock = real_now_clock()
    async with sim_running(clock) as sim, client(sim, tmp_path, clock) as c:
        ids = []
        for i in range(55):
            req = post_only_buy(price="0.200000", cl_ord_id=f"page{i:03d}")
            ids.append((await c.add_order(req)).txid)
        for txid in ids[:52]:
            await c.cancel_order(txid=txid)
        first = await c.closed_orders()
        assert first.count == 52 and len(first.orders) == 50
        everything = await c.closed_orders_all()
        assert len(everything) == 52 and {o.status for o in everything} == {"canceled"}
        # The market falls through the 3 resting buys: three fills.
        sim.control.set_mid("XLM/USD", Decimal("0.150000"))
        trades = await c.trades_history_all()
        assert len(trades) >= 3
        assert {t.order_txid for t in trades} == set(ids[52:])
        assert all(t.maker for t in trades)


async def test_error_classes_surface_from_the_sim(tmp_path: Path) -> None:
    async with sim_running() as sim:
        async with client(sim, tmp_path, SystemClock()) as c:
            with pytest.raises(RejectedError) as info:
                await c.depth("NOPE")
            assert info.value.kraken_error == "EQuery:Unknown asset pair"
            big = post_only_buy(price="0.200000", volume="100000")
            for attempt in range(3):
                with pytest.raises(RejectedError) as info:
                    await c.add_order(big)
                assert info.value.kraken_error == "EOrder:Insufficient funds"
                assert isinstance(info.value, RepeatedRejectionError) == (attempt == 2)
            bad_tick = post_only_buy(price="0.1000001")
            with pytest.raises(RejectedError):
                await c.add_order(bad_tick)
            sim.control.set_system_status("cancel_only")
            with pytest.raises(RejectedError) as info:
                await c.add_order(post_only_buy())
            assert "cancel_only" in (info.value.kraken_error or "")
            assert (await c.cancel_order(txid="OUNKNO-WNORD-ER0000")).count == 0
            sim.control.set_system_status("online")
        async with client(sim, tmp_path, SystemClock(), key="nope") as bad:
            with pytest.raises(FatalExchangeError) as info:
                await bad.balance()
            assert info.value.kraken_error == "EAPI:Invalid key"
        wrong_secret = "A" * 86 + "=="
        async with client(sim, tmp_path, SystemClock(), secret=wrong_secret) as bad:
            with pytest.raises(FatalExchangeError) as info:
                await bad.balance()
            assert info.value.kraken_error == "EAPI:Invalid signature"
            assert wrong_secret not in str(info.value) and wrong_secret not in repr(bad)
        sim.control.add_key("ro-key", "c2VjcmV0c2VjcmV0", permissions=frozenset({"query"}))
        async with client(
            sim, tmp_path, SystemClock(), key="ro-key", secret="c2VjcmV0c2VjcmV0"
        ) as ro:
            assert (await ro.balance()).available("USD") == Decimal("1000")
            with pytest.raises(FatalExchangeError) as info:
                await ro.add_order(post_only_buy())
            assert info.value.kraken_error == "EGeneral:Permission denied"
