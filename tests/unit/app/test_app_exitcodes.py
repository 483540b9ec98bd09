"""Every step name the trading stack can fail at has its own documented exit status."""

from __future__ import annotations

import re
from pathlib import Path

from krakenbot.app import trading_stack
from krakenbot.app.exitcodes import STEP_EXITS, RunExit, exit_for_step

# `_step("name", …)` and `StartupError("name", …)` in app/trading_stack.py (names may wrap a line).
_STEP_NAME = re.compile(r"(?:_step|StartupError)\(\s*\"([a-z_]+)\"")


def _stack_step_names() -> set[str]:
    return set(_STEP_NAME.findall(Path(trading_stack.__file__).read_text(encoding="utf-8")))


def test_every_stack_step_is_mapped_explicitly() -> None:
    names = _stack_step_names()
    assert {"exchange", "instruments", "balances", "reconcile"} <= names
    assert names - set(STEP_EXITS) == set(), "a stack step falls through to the default"


def test_rest_steps_exit_6_and_reconciliation_7() -> None:
    # AssetPairs failing (a pair the exchange does not list) is the REST step, not the engine.
    for name in ("exchange", "instruments", "balances"):
        assert exit_for_step(name) is RunExit.EXCHANGE
    assert exit_for_step("reconcile") is RunExit.RECONCILE
    assert exit_for_step(" Instruments ") is RunExit.EXCHANGE
    assert exit_for_step("config") is RunExit.ENGINE
    assert exit_for_step("strategy") is RunExit.ENGINE
