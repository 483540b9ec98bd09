"""A WebSocket order's trading-counter charge (issue 15). WS carries no nonce, so the charge
never waits for the key's file lock (held across every REST request by whichever process
uses the key), and it still reaches the shared state file: written by the next locked call,
replayed onto the state another process wrote in between, and never counted twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.kraken_http import ScriptedKraken, rest_client

from krakenbot.kraken.methods import Priority
from krakenbot.net.nonce_store import KeyStateStore
from krakenbot.net.rest_config import TradeCharge

PAIR = "XLMUSD"


async def _charge_ws(client_core: object, n: int) -> None:
    for _ in range(n):
        await client_core.reserve_trade(  # type: ignore[attr-defined]
            "ws:add_order", TradeCharge(PAIR, 1), priority=Priority.ORDER
        )


async def _file_level(state_dir: Path) -> float:
    """The pair's counter as another process reads it from the shared file."""
    reader = KeyStateStore(state_dir, "key")
    try:
        state = await reader.acquire()
        return state.trading[PAIR].level if PAIR in state.trading else 0.0
    finally:
        reader.close()


async def test_a_ws_charge_does_not_wait_for_the_key_lock(tmp_path: Path) -> None:
    client = rest_client(tmp_path, ScriptedKraken(lambda method, form: {}))
    other = KeyStateStore(tmp_path, "key")  # another process, in the middle of a request
    await other.acquire()
    try:
        await asyncio.wait_for(_charge_ws(client.core, 2), 1.0)
    finally:
        other.close()
    assert client.core.trading_counter_estimate(PAIR) == 2
    await client.close()


@pytest.mark.parametrize("other_writes", [False, True])
async def test_ws_charges_reach_the_shared_file_once(tmp_path: Path, other_writes: bool) -> None:
    client = rest_client(tmp_path, ScriptedKraken(lambda method, form: {}))
    await client.core.private("Balance", {})  # our state loaded and saved once
    await _charge_ws(client.core, 3)
    if other_writes:
        other = KeyStateStore(tmp_path, "key")
        state = await other.acquire()
        state.nonce_high_water += 1_000
        other.save()
        other.close()
    await client.core.private("Balance", {})  # the next locked call writes the charges
    assert await _file_level(tmp_path) == 3
    await client.core.private("Balance", {})  # ... once
    assert await _file_level(tmp_path) == 3
    assert client.core.trading_counter_estimate(PAIR) == 3
    await client.close()


async def test_a_ws_charge_without_room_now_is_not_made_and_says_how_long_to_wait(
    tmp_path: Path,
) -> None:
    """The synchronous charge of the WS order path: charged (0.0) while there is room; with
    none, nothing is charged and the answer is the wait the model asks for."""
    client = rest_client(tmp_path, ScriptedKraken(lambda method, form: {}))
    core = client.core
    room = core.model.limits.trade_threshold - core.model.trade_margin
    room -= core.model.cancel_reserve
    assert core.reserve_trade_now("ws:add_order", TradeCharge(PAIR, room)) == 0.0
    assert core.trading_counter_estimate(PAIR) == room
    wait = core.reserve_trade_now("ws:add_order", TradeCharge(PAIR, 1))
    assert wait == pytest.approx(1 / core.model.limits.trade_decay_per_s)
    assert core.trading_counter_estimate(PAIR) == room  # (a ManualClock: no decay)
    # A cancel may use the reserve new orders leave for it.
    assert core.reserve_trade_now("ws:cancel_order", TradeCharge(PAIR, 1, cancel=True)) == 0.0
    await client.close()
