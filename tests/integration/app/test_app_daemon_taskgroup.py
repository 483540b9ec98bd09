"""The daemon's TaskGroup semantics with a scripted stack (the engine is another seam; the
real stack is covered end to end in tests/e2e). Real ledger, real health server."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from tests.instruments import XLM

from krakenbot.app.deadman import DeadMansSwitch, DmsState
from krakenbot.app.exitcodes import RunExit
from krakenbot.app.health_server import HealthServer
from krakenbot.app.runtime_files import TOKEN_HEADER
from krakenbot.app.supervisor import STATUS_STATE_KEY, Daemon, DaemonConfig
from krakenbot.clock import SystemClock
from krakenbot.domain.enums import ConnectionState, SystemState, TradingState
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.sections import DeadManSwitchSection
from krakenbot.engine.health import EngineHealth, ShutdownReport
from krakenbot.engine.protect import SwitchNeed
from krakenbot.errors import TransientError
from krakenbot.net.rest_client import RestClient
from krakenbot.resilience.breaker import BreakerState
from krakenbot.store import LedgerRepository, open_ledger


@dataclass
class ScriptedStack:
    fail_after_s: float | None = None
    connect: bool = True
    rest: RestClient | None = None
    stop_reason: str | None = None
    shutdowns: list[float] = field(default_factory=list)
    emergencies: list[str] = field(default_factory=list)
    writes: list[tuple[str, str | None]] = field(default_factory=list)  # to its ledger watch
    # Per write: how long before its outcome was reported it was attempted (None: unknown).
    attempted_s_before: list[float | None] = field(default_factory=list)
    # What its shutdown reports; `place_stop`: it places a protective stop (disarming first).
    report: ShutdownReport = field(default_factory=lambda: ShutdownReport(1, (), True))
    place_stop: bool = False
    disarmed: list[bool] = field(default_factory=list)
    need: SwitchNeed = field(default_factory=lambda: SwitchNeed(entry=False, protection=False))
    shutdown_error: Exception | None = None  # its shutdown fails with it
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def services(self) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
        return [("engine loop", self._loop), ("ws public", self._ws)]

    async def _loop(self) -> None:
        if self.fail_after_s is not None:
            await asyncio.sleep(self.fail_after_s)
            raise RuntimeError("engine exploded")
        await self._stop.wait()

    async def _ws(self) -> None:
        await self._stop.wait()

    def request_stop(self, reason: str) -> None:
        self.stop_reason = self.stop_reason or reason
        self._stop.set()

    async def shutdown(
        self, timeout_s: float, disarm: Callable[[], Awaitable[bool]] | None = None
    ) -> ShutdownReport:
        self.shutdowns.append(timeout_s)
        if self.place_stop and disarm is not None:
            self.disarmed.append(await disarm())
        if self.shutdown_error is not None:
            raise self.shutdown_error
        return self.report

    async def emergency_stop(self, reason: str) -> None:
        self.emergencies.append(reason)

    def health(self) -> EngineHealth:
        state = ConnectionState.CONNECTED if self.connect else ConnectionState.CONNECTING
        return EngineHealth(
            trading_state=TradingState.ACTIVE,
            breaker_state=BreakerState.CLOSED,
            last_market_data_ns=SystemClock().now_ns(),
            book_verified=True,
            ws_public=state,
            ws_private=None,
            open_orders=0,
        )

    def healthy(self) -> bool:
        return True

    def switch_need(self) -> SwitchNeed:
        return self.need

    def watch_switch_need(self, callback: Callable[[], None]) -> None:
        return None

    @property
    def instruments(self) -> dict[str, Instrument]:
        return {"XLM/USD": XLM}

    def ledger_write(
        self, operation: str, error: BaseException | None, started_ns: int | None = None
    ) -> None:
        self.writes.append((operation, None if error is None else repr(error)))
        now = SystemClock().monotonic_ns()
        before = None if started_ns is None else (now - started_ns) / 1e9
        self.attempted_s_before.append(before)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[LedgerRepository]:
    clock = SystemClock()
    db = await open_ledger(tmp_path / "t.db", clock)
    yield LedgerRepository(db, clock)
    await db.close()


def _daemon(stack: ScriptedStack, repo: LedgerRepository, **cfg: object) -> Daemon:
    return Daemon(
        config=DaemonConfig(mode="paper", live_path=False, **cfg),  # type: ignore[arg-type]
        stack=stack,
        repo=repo,
        clock=SystemClock(),
        dms=None,
        started_ns=SystemClock().now_ns(),
        data_files={"database": "t.db"},
    )


async def test_duration_stops_gracefully(repo: LedgerRepository) -> None:
    stack = ScriptedStack()
    daemon = _daemon(stack, repo, duration_s=0.3)
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    assert outcome.exit_status is RunExit.OK
    assert stack.shutdowns and stack.stop_reason and "duration" in stack.stop_reason
    stopped = await repo.events("daemon_stopped")
    assert len(stopped) == 1 and stopped[0].payload["exit_status"] == 0
    snapshot = json.loads(await repo.get_state(STATUS_STATE_KEY) or "{}")
    assert snapshot["running"] is False


async def test_a_failing_component_brings_everything_to_a_safe_stop(
    repo: LedgerRepository,
) -> None:
    stack = ScriptedStack(fail_after_s=0.3)
    daemon = _daemon(stack, repo)
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    assert outcome.exit_status is RunExit.FAILED
    assert outcome.failed_component == "engine loop"
    assert stack.shutdowns  # open orders cancelled through the stack
    assert stack.stop_reason and stack.stop_reason.startswith("failure")
    failed = await repo.events("daemon_failed")
    assert failed and "engine exploded" in str(failed[0].payload["error"])


async def test_websocket_that_never_connects_is_a_start_up_failure(
    repo: LedgerRepository,
) -> None:
    stack = ScriptedStack(connect=False)
    daemon = _daemon(stack, repo, startup_timeout_s=0.3)
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    assert outcome.exit_status is RunExit.WEBSOCKET
    assert stack.shutdowns


async def test_a_start_up_timeout_is_reported_without_a_traceback(
    repo: LedgerRepository, caplog: pytest.LogCaptureFixture
) -> None:
    # The operator's console shows exc_info: a diagnosed start-up failure must not print one,
    # while a component that crashed keeps its traceback (see the next assertion).
    caplog.set_level(logging.ERROR, logger="krakenbot.app.supervisor")
    daemon = _daemon(ScriptedStack(connect=False), repo, startup_timeout_s=0.3)
    async with asyncio.timeout(10):
        assert (await daemon.run()).exit_status is RunExit.WEBSOCKET
    failed = [r for r in caplog.records if r.name == "krakenbot.app.supervisor"]
    assert failed and all(r.exc_info is None for r in failed)
    caplog.clear()
    crashing = _daemon(ScriptedStack(fail_after_s=0.05), repo, startup_timeout_s=5)
    async with asyncio.timeout(10):
        assert (await crashing.run()).exit_status is not RunExit.OK
    assert any(r.exc_info for r in caplog.records if r.name == "krakenbot.app.supervisor")


async def test_health_endpoint_and_authenticated_stop(repo: LedgerRepository) -> None:
    stack = ScriptedStack()
    daemon = _daemon(stack, repo)
    server = HealthServer(
        host="127.0.0.1",
        port=0,
        report=daemon.report,
        request_stop=daemon.request_stop,
        token="secret-token",
        emergency=daemon.emergency,
    )
    await server.start()
    try:
        run = asyncio.create_task(daemon.run())
        async with asyncio.timeout(10):
            await daemon.ready.wait()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/health") as response:
                doc = await response.json()
                assert response.status == 200
            assert doc["status"] == "healthy" and doc["mode"] == "paper"
            # The soak test's leak gauge: the daemon's run task and its services, at least.
            assert doc["asyncio_tasks"] >= 1 + len(stack.services())
            async with http.post(f"{server.url}/stop", headers={TOKEN_HEADER: "wrong"}) as r:
                assert r.status == 403
            assert not daemon.stopping
            async with http.post(
                f"{server.url}/stop",
                headers={TOKEN_HEADER: "secret-token"},
                json={"cancel_all": True},
            ) as r:
                assert r.status == 202
                assert (await r.json())["emergency"] is True
            assert stack.emergencies == ["stop request"]
        async with asyncio.timeout(10):
            outcome = await run
        assert outcome.exit_status is RunExit.OK
        assert outcome.reason == "emergency stop: stop request"
    finally:
        await server.close()


async def test_a_failed_status_snapshot_goes_to_the_ledger_watch_not_to_a_crash(
    repo: LedgerRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = repo.set_state
    failures = [True, True]  # the first two snapshots fail, then the ledger works again

    async def flaky_set_state(key: str, value: str) -> None:
        if key == STATUS_STATE_KEY and failures:
            failures.pop()
            await asyncio.sleep(0.1)  # e.g. waiting for a lock first
            raise OSError(28, "No space left on device")
        await real(key, value)

    monkeypatch.setattr(repo, "set_state", flaky_set_state)
    monkeypatch.setattr("krakenbot.app.supervisor.SNAPSHOT_EVERY_S", 0.05)
    stack = ScriptedStack()
    daemon = _daemon(stack, repo, duration_s=0.5)
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    assert outcome.exit_status is RunExit.OK  # the watch decides, not the snapshot job
    assert [error is not None for _, error in stack.writes[:3]] == [True, True, False]
    assert "No space left" in str(stack.writes[0][1])
    # The watch's clock starts when the write was attempted, not when it gave up.
    before = stack.attempted_s_before[0]
    assert before is not None and before >= 0.1


async def test_a_stop_that_leaves_a_position_unprotected_exits_1(repo: LedgerRepository) -> None:
    stack = ScriptedStack()
    stack.report = ShutdownReport(1, (), False, "no stop", uncovered=("XLM/USD",))
    daemon = _daemon(stack, repo, duration_s=0.2)
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    assert outcome.exit_status is RunExit.FAILED and "XLM/USD" in outcome.reason
    [stopped] = await repo.events("daemon_stopped")
    assert stopped.payload["exit_status"] == 1
    shutdown = stopped.payload["shutdown"]
    assert isinstance(shutdown, dict) and shutdown["uncovered"] == ["XLM/USD"]


@dataclass
class CancelAfter:
    """Kraken's CancelAllOrdersAfter as the switch uses it; `refuse_off` fails timeout 0."""

    refuse_off: bool = False
    refuse_first_offs: int = 0  # this many timeout-0 calls fail, then they succeed
    sent: list[int] = field(default_factory=list)

    async def cancel_all_orders_after(self, timeout_s: int) -> Armed:
        self.sent.append(timeout_s)
        if timeout_s == 0 and (self.refuse_off or self.sent.count(0) <= self.refuse_first_offs):
            raise TransientError("EService:Unavailable")
        return Armed("2026-01-01T00:01:00Z" if timeout_s else "")

    async def system_status(self) -> Status:
        return Status(SystemState.ONLINE)


@dataclass(frozen=True)
class Armed:
    trigger_time: str


@dataclass(frozen=True)
class Status:
    status: SystemState


def _switch(api: CancelAfter, need: SwitchNeed) -> DeadMansSwitch:
    return DeadMansSwitch(
        api,
        DeadManSwitchSection(timeout_s=60, refresh_s=20),
        healthy=lambda: True,
        clock=SystemClock(),
        need=lambda: need,
    )


async def test_the_switch_is_disarmed_before_the_shutdown_places_a_stop(
    repo: LedgerRepository,
) -> None:
    api = CancelAfter()
    stack = ScriptedStack(place_stop=True)
    stack.report = ShutdownReport(1, (), True, "placed", kept=("kbstop",), placed=("kbstop",))
    daemon = _daemon(stack, repo, duration_s=0.3)
    daemon.dms = _switch(api, SwitchNeed(entry=True, protection=False))  # armed meanwhile
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    assert outcome.exit_status is RunExit.OK
    assert stack.disarmed == [True] and api.sent[0] == 60 and api.sent[-1] == 0
    assert daemon.dms.state is DmsState.OFF


async def test_a_switch_that_cannot_be_disarmed_over_a_kept_stop_exits_1(
    repo: LedgerRepository,
) -> None:
    api = CancelAfter(refuse_off=True)
    stack = ScriptedStack(place_stop=True)
    stack.report = ShutdownReport(1, (), True, "kept", kept=("kbstop",))
    daemon = _daemon(stack, repo, duration_s=0.3)
    daemon.dms = _switch(api, SwitchNeed(entry=True, protection=False))
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    assert outcome.exit_status is RunExit.FAILED and "dead man's switch" in outcome.reason
    assert stack.disarmed == [False] and api.sent.count(0) == 3  # at the stop, then twice


async def test_a_safe_stop_whose_shutdown_fails_disarms_the_switch_over_a_position(
    repo: LedgerRepository,
) -> None:
    """A component fails while the switch is armed for an entry and a position has just
    come (its stop placed, the disarm not yet sent); the shutdown then fails too, so it
    reports no kept stop. The switch must still go off: it would cancel the stop."""
    api = CancelAfter()
    stack = ScriptedStack(fail_after_s=0.3, shutdown_error=RuntimeError("venue unreachable"))
    daemon = _daemon(stack, repo)
    need = SwitchNeed(entry=True, protection=False)
    daemon.dms = DeadMansSwitch(
        api,
        DeadManSwitchSection(timeout_s=60, refresh_s=20),
        healthy=lambda: True,
        clock=SystemClock(),
        need=lambda: need,
    )

    async def fill() -> None:  # the entry fills just before the failure
        await asyncio.sleep(0.2)
        nonlocal need
        need = stack.need = SwitchNeed(entry=False, protection=True)

    filled = asyncio.create_task(fill())
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    await filled
    assert outcome.exit_status is RunExit.FAILED
    assert api.sent[0] == 60 and api.sent[-1] == 0
    assert daemon.dms.state is DmsState.OFF


async def test_a_safe_stop_retries_the_disarm_over_its_kept_stop(repo: LedgerRepository) -> None:
    """A component fails with a position: the shutdown keeps its protective stop, but
    Kraken refuses the first two disarms (a transient error). The safe stop must try again,
    as a clean stop does: a switch left armed would cancel the stop at its deadline."""
    api = CancelAfter(refuse_first_offs=2)
    stack = ScriptedStack(fail_after_s=0.3, place_stop=True)
    stack.need = SwitchNeed(entry=False, protection=True)
    stack.report = ShutdownReport(0, (), True, "kept", kept=("kbstop",))
    daemon = _daemon(stack, repo)
    daemon.dms = _switch(api, SwitchNeed(entry=True, protection=False))  # armed meanwhile
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    assert outcome.exit_status is RunExit.FAILED
    assert stack.disarmed == [False] and api.sent.count(0) == 3
    assert daemon.dms.state is DmsState.OFF


async def test_a_safe_stop_that_cannot_disarm_over_its_kept_stop_says_so(
    repo: LedgerRepository,
) -> None:
    api = CancelAfter(refuse_off=True)
    stack = ScriptedStack(fail_after_s=0.3, place_stop=True)
    stack.report = ShutdownReport(0, (), True, "kept", kept=("kbstop",))
    daemon = _daemon(stack, repo)
    daemon.dms = _switch(api, SwitchNeed(entry=True, protection=False))
    async with asyncio.timeout(10):
        outcome = await daemon.run()
    assert outcome.exit_status is RunExit.FAILED and "dead man's switch" in outcome.reason
    failed = await repo.events("daemon_failed")
    assert failed and failed[-1].payload["dms_disarmed"] is False
