from __future__ import annotations

import asyncio
from types import SimpleNamespace

from krakenbot.app.deadman import DeadMansSwitch, DmsAction, DmsState, dms_action
from krakenbot.clock import ManualClock
from krakenbot.domain.enums import SystemState
from krakenbot.domain.sections import DeadManSwitchSection
from krakenbot.engine.protect import SwitchNeed


def test_refresh_only_while_healthy() -> None:
    assert dms_action(healthy=True, system=SystemState.ONLINE, armed=True) is DmsAction.ARM
    assert dms_action(healthy=True, system=None, armed=False) is DmsAction.ARM
    assert dms_action(healthy=False, system=SystemState.ONLINE, armed=True) is DmsAction.LAPSE


def test_maintenance_disarms_once_then_waits() -> None:
    assert dms_action(healthy=True, system=SystemState.MAINTENANCE, armed=True) is (
        DmsAction.DISARM
    )
    assert dms_action(healthy=True, system=SystemState.MAINTENANCE, armed=False) is (
        DmsAction.LAPSE
    )


def test_cancel_only_and_post_only_keep_the_switch_armed() -> None:
    for state in (SystemState.CANCEL_ONLY, SystemState.POST_ONLY):
        assert dms_action(healthy=True, system=state, armed=True) is DmsAction.ARM


# ---------------------------------------------------------------- with the engine's SwitchNeed
ENTRY_ONLY = SwitchNeed(entry=True, protection=False)
POSITION = SwitchNeed(entry=False, protection=True)
BOTH = SwitchNeed(entry=True, protection=True)
NOTHING = SwitchNeed(entry=False, protection=False)


def test_armed_only_while_an_entry_rests_and_no_position_needs_its_stop() -> None:
    assert dms_action(healthy=True, system=None, armed=False, need=ENTRY_ONLY) is DmsAction.ARM
    assert dms_action(healthy=False, system=None, armed=True, need=ENTRY_ONLY) is DmsAction.LAPSE
    for need in (POSITION, BOTH, NOTHING):
        assert dms_action(healthy=True, system=None, armed=True, need=need) is DmsAction.DISARM
        assert dms_action(healthy=True, system=None, armed=False, need=need) is (DmsAction.STANDBY)


def test_lapsing_never_removes_a_needed_protective_stop() -> None:
    """Unhealthy would let the timer run out: with a position it is disarmed instead (the
    switch would cancel the stop; the entries expire by themselves, GTD)."""
    for need in (POSITION, BOTH):
        assert dms_action(healthy=False, system=None, armed=True, need=need) is DmsAction.DISARM
    for state in SystemState:
        action = dms_action(healthy=False, system=state, armed=True, need=POSITION)
        assert action is DmsAction.DISARM  # maintenance or not, it is never left to fire


def test_maintenance_still_wins() -> None:
    action = dms_action(healthy=True, system=SystemState.MAINTENANCE, armed=False, need=ENTRY_ONLY)
    assert action is DmsAction.LAPSE


class _SlowKraken:
    """CancelAllOrdersAfter that waits (as a call waiting for rate-limit headroom does)."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.release = asyncio.Event()

    async def system_status(self) -> SimpleNamespace:
        return SimpleNamespace(status=SystemState.ONLINE)

    async def cancel_all_orders_after(self, timeout_s: int) -> SimpleNamespace:
        await self.release.wait()
        self.sent.append(timeout_s)
        return SimpleNamespace(trigger_time="2026-01-01T00:01:00Z")


async def test_a_stop_abandons_a_refresh_in_progress_and_never_arms_after_it() -> None:
    kraken = _SlowKraken()
    dms = DeadMansSwitch(
        kraken,
        DeadManSwitchSection(timeout_s=60, refresh_s=20),
        healthy=lambda: True,
        clock=ManualClock(),
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(dms.run(stop))
    await asyncio.sleep(0.01)  # the first refresh is waiting
    stop.set()
    await asyncio.wait_for(runner, 1)  # the loop ends at once, not after the refresh
    kraken.release.set()
    await asyncio.sleep(0.01)
    assert kraken.sent == [] and dms.state is DmsState.OFF
    # The arm may have reached Kraken before it was abandoned: disabling sends timeout 0.
    assert dms.maybe_armed and await dms.disable()
    assert kraken.sent == [0] and not dms.maybe_armed


async def test_disable_sends_nothing_when_no_arm_was_ever_sent() -> None:
    kraken = _SlowKraken()  # would hang: nothing must be sent
    dms = DeadMansSwitch(
        kraken,
        DeadManSwitchSection(timeout_s=60, refresh_s=20),
        healthy=lambda: False,
        clock=ManualClock(),
    )
    assert await dms.step() is DmsAction.LAPSE  # unhealthy: never armed
    assert await asyncio.wait_for(dms.disable(), 1) and kraken.sent == []
    assert dms.state is DmsState.OFF


async def test_disable_sends_timeout_0_over_a_stop_while_kraken_s_timer_is_unknown() -> None:
    """An earlier process may have left the timer armed; a position needs its stop: a stop
    before this process's first disarm was answered still sends timeout 0 — once."""
    kraken = _SlowKraken()
    kraken.release.set()
    dms = DeadMansSwitch(
        kraken,
        DeadManSwitchSection(timeout_s=60, refresh_s=20),
        healthy=lambda: True,
        clock=ManualClock(),
        need=lambda: POSITION,
    )
    assert await dms.disable() and kraken.sent == [0]
    assert await dms.disable() and kraken.sent == [0]  # now known to be off
