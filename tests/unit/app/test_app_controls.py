"""Each control is one call into the daemon, the same for the CLI and the page."""

from __future__ import annotations

from dataclasses import dataclass, field

from krakenbot.app.controls import DESTRUCTIVE, Action, Controls
from krakenbot.domain.enums import TradingState
from krakenbot.engine.health import EngineHealth
from krakenbot.resilience.breaker import BreakerState


@dataclass
class Stack:
    state: TradingState = TradingState.ACTIVE
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def set_trading_state(self, state: TradingState, reason: str) -> None:
        self.state = state
        self.calls.append((state.value, reason))

    async def flatten(self, reason: str) -> tuple[str, ...]:
        self.state = TradingState.REDUCING
        self.calls.append(("flatten", reason))
        return ("XLM/USD: IOC sell 30 at 0.287 (through the risk gate)",)

    def health(self) -> EngineHealth:
        return EngineHealth(self.state, BreakerState.CLOSED, 0, True, None, None, 0)


@dataclass
class Daemon:
    stack: Stack = field(default_factory=Stack)
    stopping: bool = False
    completes: bool = True
    stops: list[str] = field(default_factory=list)

    def request_stop(self, reason: str) -> None:
        self.stopping = True
        self.stops.append(reason)

    async def cancel_all(self, reason: str, timeout_s: float = 10.0) -> bool:
        self.stack.state = TradingState.HALTED
        self.stack.calls.append(("cancel-all", reason))
        return self.completes


async def test_pause_resume_and_halt_set_the_trading_state() -> None:
    daemon = Daemon()
    controls = Controls(daemon)  # type: ignore[arg-type]
    paused = await controls.run(Action.PAUSE, "dashboard")
    assert paused.ok and paused.trading_state == "REDUCING"
    assert daemon.stack.calls == [("REDUCING", "operator (dashboard): pause: no new entries")]
    assert (await controls.run(Action.RESUME, "krakenbot resume")).trading_state == "ACTIVE"
    assert (await controls.run(Action.HALT, "dashboard")).lines == ("trading state HALTED",)
    assert daemon.stops == []


async def test_cancel_all_flatten_and_stop() -> None:
    daemon = Daemon()
    controls = Controls(daemon)  # type: ignore[arg-type]
    flat = await controls.run(Action.FLATTEN, "dashboard")
    assert flat.lines == (
        "trading state REDUCING",
        "XLM/USD: IOC sell 30 at 0.287 (through the risk gate)",
    )
    cancelled = await controls.run(Action.CANCEL_ALL, "dashboard")
    assert cancelled.ok and cancelled.trading_state == "HALTED" and not daemon.stopping
    daemon.completes = False
    assert not (await controls.run(Action.CANCEL_ALL, "dashboard")).ok
    stopped = await controls.run(Action.STOP, "dashboard")
    assert stopped.ok and daemon.stops == ["operator (dashboard): stop"]


async def test_a_stopping_daemon_takes_no_control_but_stop() -> None:
    daemon = Daemon(stopping=True)
    controls = Controls(daemon)  # type: ignore[arg-type]
    refused = await controls.run(Action.RESUME, "dashboard")
    assert not refused.ok and refused.lines == ("the daemon is stopping",)
    assert daemon.stack.calls == []
    assert (await controls.run(Action.STOP, "dashboard")).ok


def test_the_destructive_ones_are_confirmed_in_the_page() -> None:
    assert {a.value for a in DESTRUCTIVE} == {"halt", "cancel-all", "flatten", "stop"}
