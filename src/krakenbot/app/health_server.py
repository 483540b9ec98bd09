"""The daemon's local HTTP endpoint: `GET /health` (status JSON), `POST /stop` and the
dashboard's routes (app/dashboard_server.py) on the same port.

Owns: the aiohttp app and its lifetime. `/health` answers 200 when healthy and 503 when
degraded, with the same JSON as `krakenbot status --json`. `/stop` needs the token from the
data directory's `.stop_token` in the `X-Krakenbot-Stop-Token` header (compared in constant
time) and asks for a graceful stop; with `{"cancel_all": true}` it first runs the stack's
emergency stop (trading HALTED, each of our orders cancelled through the risk gate). It is how
`krakenbot stop` reaches the daemon on Windows and whenever a signal cannot be used. Binds to
loopback unless HEALTH_ALLOW_REMOTE is set (config checks that). Every route answers 421
to a request whose `Host` header does not name this server (a loopback name or the bound
address, with the port; an IP literal on a wildcard bind): DNS rebinding.
Imports: aiohttp, stdlib, app.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from krakenbot.app.dashboard_auth import allowed_hosts, names_server
from krakenbot.app.dashboard_server import Dashboard
from krakenbot.app.exitcodes import StatusExit
from krakenbot.app.metrics_route import add_metrics_route
from krakenbot.app.runtime_files import TOKEN_HEADER
from krakenbot.app.status_model import StatusReport, assess

logger = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HealthServer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        report: Callable[[], StatusReport],
        request_stop: Callable[[str], None],
        token: str,
        emergency: Callable[[str], Awaitable[bool]] | None = None,
        dashboard: Dashboard | None = None,
        metrics: Callable[[], bytes] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._report = report
        self._request_stop = request_stop
        self._emergency = emergency
        self._token = token
        self._dashboard = dashboard
        self._metrics = metrics  # GET /metrics: app/metrics_route.py
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self._hosts: frozenset[str] = frozenset()  # the Host values naming this server

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._host_check])
        app.router.add_get("/health", self._health)
        app.router.add_post("/stop", self._stop)
        if self._dashboard is not None:
            self._dashboard.install(app)
        if self._metrics is not None:
            add_metrics_route(app, self._metrics)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._hosts = allowed_hosts(self._host, self.port)
        if self._dashboard is not None:
            self._dashboard.listening(self._host, self.port, self.url)

    @web.middleware
    async def _host_check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every route answers only requests whose `Host` names this server: a page whose
        name was made to resolve to 127.0.0.1 (DNS rebinding) would otherwise read /health
        and /metrics, or use a dashboard cookie, as same-origin."""
        if not names_server(request.headers.get("Host"), self._hosts, self._host):
            logger.warning("request refused: its Host header does not name this server")
            return web.json_response(
                {"error": "the Host header does not name this server"}, status=421
            )
        return await handler(request)

    async def serve_until(self, done: asyncio.Event) -> None:
        """The daemon's TaskGroup task for this server: serve until the daemon is done."""
        try:
            await done.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        report = self._report()
        verdict, _ = assess(report)
        status = 200 if verdict is StatusExit.HEALTHY else 503
        return web.json_response(report.to_json(), status=status)

    async def _stop(self, request: web.Request) -> web.Response:
        given = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8"), self._token.encode("utf-8")):
            logger.warning("stop request with a wrong token refused")
            return web.json_response({"error": "forbidden"}, status=403)
        reason = "stop request"
        body: Any = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                body = None
        if isinstance(body, dict) and isinstance(body.get("reason"), str):
            reason = f"stop request: {body['reason'][:200]}"
        if isinstance(body, dict) and body.get("cancel_all") is True and self._emergency:
            cancelled = await self._emergency(reason)
            return web.json_response({"stopping": True, "emergency": cancelled}, status=202)
        self._request_stop(reason)
        return web.json_response({"stopping": True}, status=202)
