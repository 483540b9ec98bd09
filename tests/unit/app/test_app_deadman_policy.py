from __future__ import annotations

from krakenbot.app.deadman import DmsAction, dms_action
from krakenbot.domain.enums import SystemState
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
