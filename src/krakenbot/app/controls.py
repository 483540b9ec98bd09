"""The operator's controls of a running daemon: one function per action, whoever asks.

Owns: `Action` (pause, resume, halt, cancel-all, flatten, stop), which of them are
destructive (the page asks for a confirmation), `ControlResult`, and `Controls.run` — the
one place both the CLI (`krakenbot pause|resume|halt|cancel-all|flatten`, through the
authenticated local endpoint `POST /control/<action>` with the daemon's token) and the
dashboard's buttons (the same endpoint, with the session cookie and CSRF value) reach:
- pause: trading state REDUCING (no new entries; exits, protective stops and cancels go);
- resume: ACTIVE; halt: HALTED (only cancels and the protective stops go);
- cancel-all: HALTED and a cancel of each of our orders, the protective stops too, through
  the risk gate — the engine's emergency stop, as `stop --cancel-all`; foreign orders are
  never touched; the daemon keeps running, halted (resume or pause re-arms the stops);
- flatten: REDUCING, our resting entries cancelled and each long position sold with an IOC
  limit order at the verified best bid, through the risk gate (engine/flatten.py);
- stop: the graceful stop `krakenbot stop` asks for.
Every state change is persisted and recorded by the engine (events kind `trading_state`,
`flatten`) with who asked. Risk limits are not checked here: the risk gate does.
Imports: anything (composition root).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from krakenbot.app.stack_protocol import StackLike
from krakenbot.domain.enums import TradingState


class Action(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    HALT = "halt"
    CANCEL_ALL = "cancel-all"
    FLATTEN = "flatten"
    STOP = "stop"


DESTRUCTIVE = frozenset({Action.HALT, Action.CANCEL_ALL, Action.FLATTEN, Action.STOP})
_STATES = {
    Action.PAUSE: (TradingState.REDUCING, "pause: no new entries"),
    Action.RESUME: (TradingState.ACTIVE, "resume"),
    Action.HALT: (TradingState.HALTED, "halt"),
}


@dataclass(frozen=True, slots=True)
class ControlResult:
    ok: bool
    action: str
    lines: tuple[str, ...]
    trading_state: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "action": self.action,
            "lines": list(self.lines),
            "trading_state": self.trading_state,
        }


class DaemonLike(Protocol):
    """What the controls need of the daemon (app/supervisor.py's `Daemon`)."""

    @property
    def stack(self) -> StackLike: ...

    @property
    def stopping(self) -> bool: ...

    def request_stop(self, reason: str) -> None: ...

    async def cancel_all(self, reason: str, timeout_s: float = ...) -> bool: ...


class Controls:
    def __init__(self, daemon: DaemonLike) -> None:
        self._daemon = daemon

    async def run(self, action: Action, who: str) -> ControlResult:
        """Carry out `action` for `who` ("dashboard" or the CLI command's name)."""
        daemon = self._daemon
        if daemon.stopping and action is not Action.STOP:
            return ControlResult(False, action, ("the daemon is stopping",), self._state())
        if action in _STATES:
            state, what = _STATES[action]
            await daemon.stack.set_trading_state(state, f"operator ({who}): {what}")
            lines: tuple[str, ...] = (f"trading state {self._state()}",)
        elif action is Action.CANCEL_ALL:
            done = await daemon.cancel_all(f"operator ({who}): cancel all")
            said = "cancels sent for every order of krakenbot" if done else "did not complete"
            lines = (f"trading state {self._state()}; {said} (foreign orders left alone)",)
            return ControlResult(done, action, lines, self._state())
        elif action is Action.FLATTEN:
            lines = await daemon.stack.flatten(f"operator ({who}): flatten")
            lines = (f"trading state {self._state()}", *lines)
        else:
            daemon.request_stop(f"operator ({who}): stop")
            lines = ("stopping: our open orders are cancelled, positions and their stops kept",)
        return ControlResult(True, action, lines, self._state())

    def _state(self) -> str | None:
        try:
            return self._daemon.stack.health().trading_state.value
        except Exception:  # the answer must not fail because the engine's health did
            return None


__all__ = ["DESTRUCTIVE", "Action", "ControlResult", "Controls"]
