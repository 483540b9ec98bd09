"""End to end: the daemon on an account that also holds orders placed by hand — a trailing
stop, an iceberg and an order with a conditional close. It starts, trades its own pair,
lists them as foreign, and neither its shutdown nor `stop --cancel-all` touches them.

Before issue 13 such an account stopped `run --live` at the start-up reconciliation (exit 7:
the trailing stop's relative price could not be read), and `stop --cancel-all` used Kraken's
CancelAll, which would have removed the operator's own orders."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_helpers import (
    assert_ledger_matches_exchange,
    cli,
    daemon_env,
    healthy,
    ledger,
    ledger_matches_exchange,
    open_orders,
    start_daemon,
)
from tests.eventually import eventually

from krakenbot.sim import Sim, SimConfig, running_sim

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    balances = {"USD": Decimal("1000"), "XLM": Decimal("500"), "BTC": Decimal("0.01")}
    cfg = SimConfig(
        pairs=("XLM/USD", "BTC/USD"),
        feed="random",
        feed_interval_s=0.1,
        seed=11,
        tier="pro",
        balances=balances,
    )
    async with running_sim(cfg) as s:
        yield s


def place_foreign_orders(sim: Sim) -> dict[str, str]:
    """What an operator placed by hand on the website before starting krakenbot."""
    control = sim.control
    return {
        control.place_order(
            pair="XBTUSD", type="sell", ordertype="trailing-stop", volume="0.001", price="+5%"
        ): "trailing-stop",
        control.place_order(
            pair="XLMUSD",
            type="buy",
            ordertype="iceberg",
            volume="300",
            displayvol="30",
            price="0.200000",
        ): "iceberg",
        control.place_order(
            pair="XLMUSD",
            type="buy",
            ordertype="limit",
            volume="100",
            price="0.210000",
            **{"close[ordertype]": "take-profit", "close[price]": "0.350000"},
        ): "limit",
    }


def ours(sim: Sim) -> list[dict[str, object]]:
    return [o for o in open_orders(sim) if str(o["cl_ord_id"] or "").startswith("kb")]


def mid(sim: Sim) -> Decimal:
    return Decimal(sim.state.exchange.markets["XLM/USD"].mid)


async def test_daemon_trades_beside_foreign_orders_and_never_touches_them(
    sim: Sim, tmp_path: Path
) -> None:
    foreign = place_foreign_orders(sim)
    env = daemon_env(tmp_path, sim)
    # The market stands still from the start: with the feed running, random moves traded
    # the ladder (entry at the bid, exit at the ask) in and out every second while the test
    # waited for `status`, until the risk gate's order rate (6 a minute) refused every new
    # entry and none rested within the wait (seen 1 run in 24, 6 side by side).
    sim.control.pause_feed()
    daemon = await start_daemon(tmp_path, env)
    try:
        await eventually(lambda: healthy(tmp_path, env), 30, "status reports healthy")
        await eventually(lambda: bool(ours(sim)), 15, "an entry order of krakenbot")
        sim.control.set_mid("XLM/USD", mid(sim) * Decimal("0.99"))  # fills the entry
        await eventually(
            lambda: any(o["side"] == "sell" and o["type"] == "limit" for o in ours(sim)),
            15,
            "krakenbot's exit order",
        )
        sim.control.set_mid("XLM/USD", mid(sim) * Decimal("1.02"))  # fills the exit
        await eventually(
            lambda: len([t for t in sim.control.trades() if t["pair"] == "XLM/USD"]) == 2,
            10,
            "the exit fills",
        )
        # Flat again: the ladder's next entry rests, and nothing moves until the market does.
        await eventually(
            lambda: (
                any(o["side"] == "buy" for o in ours(sim))
                and ledger_matches_exchange(tmp_path, sim)
            ),
            15,
            "the next entry rests, in the ledger",
        )
        status = await cli(tmp_path, env, "status", "--json", "--exchange")
        exchange = status.json()["exchange"]
        listed = {o["txid"]: o for o in exchange["open_orders"]}
        assert {t for t, o in listed.items() if o["foreign"]} == set(foreign)
        assert listed[next(iter(foreign))]["price"] == "+5.0000%"
        assert exchange["differences"] == [], exchange
        text = await cli(tmp_path, env, "status", "--exchange")
        assert text.out.count("FOREIGN") == 3
        stop = await cli(tmp_path, env, "stop", "--cancel-all", "--timeout", "30")
        assert stop.code == 0, stop.out + stop.err
        assert stop.out.count("left alone (not krakenbot's)") == 3, stop.out
        assert "no open order of krakenbot remains" in stop.out
        assert await daemon.wait(10) == 0
        still = {str(o["txid"]): o for o in open_orders(sim)}
        assert set(still) == set(foreign)  # every foreign order survived, nothing else rests
        for txid, kind in foreign.items():
            assert still[txid]["type"] == kind and still[txid]["vol_exec"] == 0
        assert not [t for t in sim.control.trades() if t["ordertxid"] in foreign]
        kept = ledger(tmp_path, "SELECT txid FROM orders")
        assert not {row[0] for row in kept} & set(foreign)  # never adopted
        reported = ledger(
            tmp_path,
            "SELECT payload FROM events WHERE kind = 'reconcile' AND payload LIKE ?",
            ("%foreign_order%",),
        )
        assert len(reported) == 3  # once each, not at every periodic run
        assert_ledger_matches_exchange(tmp_path, sim)
    finally:
        daemon.kill9()
