"""The dashboard over real HTTP on 127.0.0.1: the daemon's health server with the dashboard's
routes, a real ledger read by the follower, a scripted daemon behind the controls.

Covers the login (a one-time link → an HttpOnly, SameSite=Strict cookie), refusals without
the cookie (401), without the CSRF value or with a foreign Host or Origin (403), the CLI's
token, the live stream's first events, and that a page which stops reading is dropped
without ever holding up the publisher."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from decimal import Decimal as D
from pathlib import Path

import aiohttp
import psutil
import pytest
from tests.eventually import eventually

from krakenbot.app import dashboard_hub, dashboard_server
from krakenbot.app.controls import Controls
from krakenbot.app.dashboard_server import Dashboard, build_dashboard
from krakenbot.app.exitcodes import ControlExit
from krakenbot.app.health_server import HealthServer
from krakenbot.app.registry import DaemonEntry, Registration, registry_dir
from krakenbot.app.runtime_files import TOKEN_HEADER
from krakenbot.app.status_model import StatusReport
from krakenbot.cli import build_parser
from krakenbot.clock import SystemClock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import Liquidity, OrderType, Side, TradingState
from krakenbot.domain.events import Fill
from krakenbot.engine.health import EngineHealth
from krakenbot.resilience.breaker import BreakerState
from krakenbot.store import LedgerRepository, open_ledger

TOKEN = "test-token-0123456789"


@dataclass
class Stack:
    state: TradingState = TradingState.ACTIVE

    async def set_trading_state(self, state: TradingState, reason: str) -> None:
        self.state = state

    async def flatten(self, reason: str) -> tuple[str, ...]:
        return ()

    def health(self) -> EngineHealth:
        return EngineHealth(self.state, BreakerState.CLOSED, 0, True, None, None, 0)


@dataclass
class Daemon:
    stack: Stack = field(default_factory=Stack)
    stopping: bool = False
    padding: str = ""  # makes each snapshot this much bigger

    def request_stop(self, reason: str) -> None:
        self.stopping = True

    async def cancel_all(self, reason: str, timeout_s: float = 10.0) -> bool:
        return True

    def report(self) -> StatusReport:
        return StatusReport(
            running=True,
            source="daemon",
            mode="sim",
            trading_state=self.stack.state.value,
            last_error=self.padding or None,
        )


@dataclass
class Served:
    daemon: Daemon
    dashboard: Dashboard
    server: HealthServer
    done: asyncio.Event
    base: str
    port: int


async def _ledger(path: Path) -> None:
    clock = SystemClock()
    db = await open_ledger(path, clock)
    repo = LedgerRepository(db, clock)
    place = PlaceOrder("kb1", "XLM/USD", Side.BUY, OrderType.LIMIT, D("30"), D("0.29"))
    await repo.insert_order(place, tag="entry")
    fill = Fill("TFILL-1", "OTX", "kb1", "XLM/USD", Side.BUY, D("0.29"), D("30"), D("8.7"),
                D("0.01"), "USD", Liquidity.MAKER, clock.now_ns())  # fmt: skip
    await repo.insert_fill(fill)
    await repo.record_event("risk_denied", {"rule": "max_positions", "reason": "one at a time"})
    await db.close()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    await _ledger(tmp_path / "t.db")
    daemon, clock = Daemon(), SystemClock()
    dashboard = await build_dashboard(
        daemon.report,
        Controls(daemon),
        database=tmp_path / "t.db",
        clock=clock,
        token=TOKEN,  # type: ignore[arg-type]
    )
    server = HealthServer(
        host="127.0.0.1",
        port=0,
        report=dashboard.report,
        request_stop=daemon.request_stop,
        token=TOKEN,
        dashboard=dashboard,
    )
    await server.start()
    done = asyncio.Event()
    hub = asyncio.create_task(dashboard.hub.serve_until(done))
    assert server.port is not None
    try:
        yield Served(daemon, dashboard, server, done, server.url, server.port)
    finally:
        done.set()
        await hub
        await server.close()


def _session() -> aiohttp.ClientSession:
    """A client that keeps cookies of an IP address (aiohttp's default jar refuses them)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _login(session: aiohttp.ClientSession, s: Served) -> str:
    """A link from the CLI's endpoint, followed once: the session cookie's Set-Cookie line."""
    async with session.post(f"{s.base}/dashboard/login-link", headers={TOKEN_HEADER: TOKEN}) as r:
        assert r.status == 200
        link = (await r.json())["url"]
    assert link.startswith(f"{s.base}/dashboard/login?code=")
    async with session.get(link, allow_redirects=False) as r:
        assert r.status == 303 and r.headers["Location"] == "/dashboard"
        set_cookie = r.headers["Set-Cookie"]
    async with session.get(link, allow_redirects=False) as again:
        assert again.status == 401  # a link works once
    return set_cookie


async def test_login_page_controls_and_refusals(served: Served) -> None:
    s = served
    async with _session() as session:
        async with session.get(f"{s.base}/dashboard") as r:
            assert r.status == 401  # no cookie yet
        set_cookie = await _login(session, s)
        assert f"krakenbot_session_{s.port}=" in set_cookie
        assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
        assert "Path=/" in set_cookie
        async with session.get(f"{s.base}/dashboard") as r:  # the cookie jar has it now
            assert r.status == 200
            assert "script-src 'self'" in r.headers["Content-Security-Policy"]
            assert r.headers["X-Frame-Options"] == "DENY"
            page = await r.text()
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert csrf is not None
        origin = {"Origin": s.base}
        url = f"{s.base}/control/pause"
        async with session.post(url, headers=origin) as r:
            assert r.status == 403  # no CSRF value
        async with session.post(url, headers={**origin, "X-CSRF-Token": "wrong"}) as r:
            assert r.status == 403
        evil = {"Origin": "http://evil.example", "X-CSRF-Token": csrf.group(1)}
        async with session.post(url, headers=evil) as r:
            assert r.status == 403
        assert s.daemon.stack.state is TradingState.ACTIVE  # nothing refused changed anything
        async with session.post(url, headers={**origin, "X-CSRF-Token": csrf.group(1)}) as r:
            assert r.status == 200 and (await r.json())["trading_state"] == "REDUCING"
        assert s.daemon.stack.state is TradingState.REDUCING
        async with session.post(f"{s.base}/control/explode", headers={TOKEN_HEADER: TOKEN}) as r:
            assert r.status == 404
    async with _session() as fresh:  # no cookie at all
        async with fresh.post(f"{s.base}/control/resume", headers={"Origin": s.base}) as r:
            assert r.status == 401
        async with fresh.get(f"{s.base}/dashboard/events") as r:
            assert r.status == 401
        rebinding = {TOKEN_HEADER: TOKEN, "Host": f"evil.example:{s.port}"}
        async with fresh.post(f"{s.base}/control/resume", headers=rebinding) as r:
            assert r.status == 421  # the health server refuses it on every route
        async with fresh.post(f"{s.base}/control/resume", headers={TOKEN_HEADER: TOKEN}) as r:
            assert r.status == 200  # the CLI: the daemon's token
        async with fresh.get(f"{s.base}/dashboard/static/vendor/uPlot.iife.min.js") as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/javascript")
        async with fresh.get(f"{s.base}/dashboard/static/../runtime_files.py") as r:
            assert r.status == 404
    assert s.daemon.stack.state is TradingState.ACTIVE


async def _events(response: aiohttp.ClientResponse, count: int) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    topic = ""
    async with asyncio.timeout(10):
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                topic = line[7:]
            elif line.startswith("data: "):
                found.append((topic, line[6:]))
                if len(found) == count:
                    return found
    return found


async def test_the_stream_sends_the_curve_then_snapshots_from_the_ledger(served: Served) -> None:
    s = served
    async with _session() as session:
        await _login(session, s)
        async with session.get(f"{s.base}/dashboard/events") as r:
            assert r.status == 200 and r.headers["Content-Type"] == "text/event-stream"
            events = await _events(r, 4)
    topics = [t for t, _ in events]
    assert topics[0] == "equity" and "snapshot" in topics
    snapshots = [json.loads(d) for t, d in events if t == "snapshot"]
    last = snapshots[-1]
    assert last["status"]["trading_state"] == "ACTIVE"
    assert [f["trade_id"] for f in last["fills"]] == ["TFILL-1"]
    assert [d["kind"] for d in last["denials"]] == ["risk_denied"]
    assert s.dashboard.report().dashboard_url == f"{s.base}/dashboard"


async def test_a_page_that_stops_reading_is_dropped_and_never_waited_for(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = served
    monkeypatch.setattr(dashboard_server, "WRITE_TIMEOUT_S", 0.5)
    s.daemon.padding = "x" * 2_000_000  # each snapshot ~2 MB: socket buffers fill at once
    async with _session() as session:
        set_cookie = await _login(session, s)
    cookie = set_cookie.split(";", 1)[0]
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = (
        f"GET /dashboard/events HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nCookie: {cookie}\r\n\r\n"
    )
    sock.sendall(request.encode())
    try:
        await eventually(lambda: s.dashboard.hub.listeners == 1, 5, "the page listens")
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(20):  # the publisher only puts into the page's mailbox
            await s.dashboard.hub.publish()
        assert loop.time() - started < 5
        # Its write timed out: the page was dropped.
        await eventually(lambda: s.dashboard.hub.listeners == 0, 10, "the page is dropped")
    finally:
        sock.close()


async def test_too_many_pages_are_refused(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    s = served
    monkeypatch.setattr(dashboard_hub, "MAX_LISTENERS", 1)
    async with _session() as session:
        await _login(session, s)
        async with session.get(f"{s.base}/dashboard/events") as first:
            assert first.status == 200
            await _events(first, 1)
            async with session.get(f"{s.base}/dashboard/events") as second:
                assert second.status == 503


async def test_a_logged_out_session_is_refused(served: Served) -> None:
    s = served
    async with _session() as session:
        await _login(session, s)
        async with session.get(f"{s.base}/dashboard") as r:
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', await r.text())
        assert csrf is not None
        headers = {"Origin": s.base, "X-CSRF-Token": csrf.group(1)}
        async with session.post(f"{s.base}/dashboard/logout", headers=headers) as r:
            assert r.status == 200
        async with session.post(f"{s.base}/control/pause", headers=headers) as r:
            assert r.status == 401
    assert replace(s.daemon.report()).trading_state == "ACTIVE"


async def test_the_cli_twins_reach_the_same_controls(
    served: Served, tmp_path: Path, krakenbot_state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`krakenbot pause|resume|dashboard` find the daemon in the per-user registry (this test
    process plays it) and ask its endpoint with the token from its token file."""
    s = served
    token_file = tmp_path / ".stop_token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    entry = DaemonEntry(
        pid=os.getpid(),
        create_time=psutil.Process().create_time(),
        mode="sim",
        data_dir=str(tmp_path),
        lock_file=str(tmp_path / ".trading_lock"),
        database=str(tmp_path / "t.db"),
        log_file=str(tmp_path / "krakenbot.log"),
        token_file=str(token_file),
        health_url=s.base,
    )
    Registration(registry_dir(krakenbot_state_dir), entry).publish()

    async def cli(*argv: str) -> int:
        args = build_parser().parse_args(list(argv))
        return int(await args.handler(args))

    assert await cli("pause") == ControlExit.OK
    assert s.daemon.stack.state is TradingState.REDUCING
    assert "trading state REDUCING" in capsys.readouterr().out
    assert await cli("resume", "--json") == ControlExit.OK
    assert json.loads(capsys.readouterr().out)["trading_state"] == "ACTIVE"
    assert await cli("dashboard") == ControlExit.OK
    shown = capsys.readouterr().out
    assert f"{s.base}/dashboard/login?code=" in shown and TOKEN not in shown
    s.daemon.stopping = True
    assert await cli("halt") == ControlExit.REFUSED  # a stopping daemon takes only a stop
    token_file.write_text("a wrong token\n", encoding="utf-8")
    assert await cli("halt") == ControlExit.REFUSED
    assert s.daemon.stack.state is TradingState.ACTIVE
    Registration(registry_dir(krakenbot_state_dir), entry).remove()
    assert await cli("halt") == ControlExit.NOT_RUNNING
