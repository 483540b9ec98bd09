"""Exit statuses of `krakenbot run`, `status`, `stop` and the controls, one per failing
start-up step.

Owns: the numbers and the step names they belong to. Imports: stdlib only, so scripts and
tests can name a status without importing the daemon. The lock keeps the status it already
had (3, `krakenbot.lock.EXIT_LOCKED`) and settings keep 2 (as `db` and `config` do).
"""

from __future__ import annotations

from enum import IntEnum


class RunExit(IntEnum):
    """`krakenbot run`: 0 clean stop; 1 a component failed while running (safe-stopped)."""

    OK = 0
    FAILED = 1  # a running component failed: orders cancelled where possible, reason in events
    SETTINGS = 2
    LOCKED = 3
    DATABASE = 4
    NONCE_STATE = 5
    EXCHANGE = 6  # REST client: SystemStatus, AssetPairs, balances
    RECONCILE = 7
    WEBSOCKET = 8
    ENGINE = 9
    HEALTH_SERVER = 10
    SIMULATOR = 11
    INTERRUPTED = 130  # stopped by a signal before start-up finished


class StatusExit(IntEnum):
    """`krakenbot status` (and scripts/simple_status.py), for health checks."""

    HEALTHY = 0
    DEGRADED = 1
    NOT_RUNNING = 2
    UNKNOWN = 3


class StopExit(IntEnum):
    """`krakenbot stop`: 0 only when the daemon is gone and no open order remains."""

    OK = 0
    ORDERS_REMAIN = 1  # the daemon is gone but open orders remain (or could not be checked)
    SETTINGS = 2
    STILL_RUNNING = 3  # the daemon did not exit (and could not be terminated)
    NOT_CHOSEN = 4  # several daemons run (or none matches the options): nothing was done


class ControlExit(IntEnum):
    """`krakenbot pause|resume|halt|cancel-all|flatten|dashboard`: a running daemon's control."""

    OK = 0
    REFUSED = 1  # the daemon answered but did not do it (stopping; cancel-all incomplete)
    SETTINGS = 2
    NOT_RUNNING = 3  # no daemon runs, or it does not answer (still starting, hung)
    NOT_CHOSEN = 4  # several daemons run (or none matches the options): nothing was done


# open_stack's StartupError.step names -> exit status.
STEP_EXITS: dict[str, RunExit] = {
    "lock": RunExit.LOCKED,
    "settings": RunExit.SETTINGS,
    "database": RunExit.DATABASE,
    "nonce": RunExit.NONCE_STATE,
    "exchange": RunExit.EXCHANGE,
    "rest": RunExit.EXCHANGE,
    "instruments": RunExit.EXCHANGE,  # AssetPairs: the exchange does not list a pair
    "balances": RunExit.EXCHANGE,
    "reconcile": RunExit.RECONCILE,
    "reconciliation": RunExit.RECONCILE,
    "websocket": RunExit.WEBSOCKET,
    "ws": RunExit.WEBSOCKET,
    "engine": RunExit.ENGINE,
    "strategy": RunExit.ENGINE,
    "config": RunExit.ENGINE,  # open_stack: the strategy or risk limits cannot be built
    "ledger": RunExit.ENGINE,  # open_stack: the engine cannot load its state from the ledger
    "health": RunExit.HEALTH_SERVER,
    "simulator": RunExit.SIMULATOR,
}


def exit_for_step(step: str) -> RunExit:
    """The exit status of a failing start-up step (unknown names count as the engine's)."""
    return STEP_EXITS.get(step.strip().lower(), RunExit.ENGINE)
