from __future__ import annotations

from krakenbot.app.deadman import DmsAction, dms_action
from krakenbot.domain.enums import SystemState


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
