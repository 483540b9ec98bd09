"""The dashboard's HTTP side, served by the daemon's health server (same port as /health).

Owns: `Dashboard` — its routes on the health server's aiohttp app, the login (a one-time
link → an HttpOnly, SameSite=Strict session cookie), the page (its CSRF value in a meta
tag), the packaged assets (app/dashboard_static/, nothing from the internet), the live
stream (server-sent events from the hub, one per page, each write bounded in time: a page
that stops reading is dropped, never waited for) and `POST /control/<action>`, the one
endpoint of the operator's controls for the CLI (token header) and the page (cookie + CSRF
+ Origin), answered by app/controls.py. Every request is judged by app/dashboard_auth.py
first. Security headers (CSP without inline script, no framing, no referrer) on each answer.

Routes: GET /dashboard, GET /dashboard/login?code=…, POST /dashboard/logout,
GET /dashboard/static/<name>, GET /dashboard/events, POST /dashboard/login-link (token
only: `krakenbot dashboard` asks for a fresh login link), POST /control/<action>.
Imports: anything (composition root).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path

from aiohttp import web

from krakenbot.app.controls import DESTRUCTIVE, Action, Controls
from krakenbot.app.dashboard_auth import (
    CSRF_HEADER,
    Facts,
    Sessions,
    Verdict,
    allowed_hosts,
    decide,
)
from krakenbot.app.dashboard_hub import DashboardHub
from krakenbot.app.dashboard_ledger import LedgerFollower
from krakenbot.app.dashboard_stream import KEEPALIVE, sse_frame
from krakenbot.app.runtime_files import TOKEN_HEADER
from krakenbot.app.status_model import StatusReport
from krakenbot.clock import Clock

logger = logging.getLogger(__name__)

STATIC = "dashboard_static"
KEEPALIVE_S = 15.0
WRITE_TIMEOUT_S = 10.0
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".txt": "text/plain"}
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_LOGIN_HELP = (
    "Open the login link the daemon printed at start-up (each link works once), or run "
    "<code>python -m krakenbot dashboard</code> for a new one."
)


def load_assets() -> dict[str, tuple[bytes, str]]:
    """The packaged files (blocking: call it in a thread): name -> (bytes, content type)."""
    found: dict[str, tuple[bytes, str]] = {}
    root = resources.files("krakenbot.app") / STATIC
    folders = [(root, "")]
    while folders:
        folder, prefix = folders.pop()
        for item in folder.iterdir():
            if item.is_dir():
                folders.append((item, f"{prefix}{item.name}/"))
                continue
            suffix = "." + item.name.rsplit(".", 1)[-1]
            if suffix in _TYPES:
                found[prefix + item.name] = (item.read_bytes(), _TYPES[suffix])
    return found


class Dashboard:
    def __init__(
        self,
        *,
        report: Callable[[], StatusReport],
        controls: Controls,
        hub: DashboardHub,
        token: str,
        clock: Clock,
        assets: Mapping[str, tuple[bytes, str]],
        sessions: Sessions | None = None,
    ) -> None:
        self._report = report
        self._controls = controls
        self.hub = hub
        self._token = token
        self._clock = clock
        self._assets = dict(assets)
        self.sessions = sessions or Sessions()
        self._hosts: frozenset[str] = frozenset()
        self._cookie = "krakenbot_session"
        self.base_url: str | None = None

    # ------------------------------------------------------------------ wiring
    def install(self, app: web.Application) -> None:
        app.router.add_get("/", self._root)
        app.router.add_get("/dashboard", self._page)
        app.router.add_get("/dashboard/login", self._login)
        app.router.add_post("/dashboard/logout", self._logout)
        app.router.add_post("/dashboard/login-link", self._login_link)
        app.router.add_get("/dashboard/static/{name:.+}", self._static)
        app.router.add_get("/dashboard/events", self._events)
        app.router.add_post("/control/{action}", self._control)

    def listening(self, host: str, port: int, base_url: str) -> None:
        """The server is bound: the names it answers to, its cookie (per port: cookies are
        not kept apart by port, two daemons must not share one) and its URL."""
        self._hosts = allowed_hosts(host, port)
        self._cookie = f"krakenbot_session_{port}"
        self.base_url = base_url

    @property
    def url(self) -> str | None:
        return None if self.base_url is None else f"{self.base_url}/dashboard"

    def report(self) -> StatusReport:
        """The daemon's status report, naming the dashboard (what /health serves)."""
        return replace(self._report(), dashboard_url=self.url)

    def login_link(self) -> str:
        code = self.sessions.issue_login(self._clock.now_ns())
        return f"{self.url}/login?code={code}"

    # ------------------------------------------------------------------ checks
    def _judge(self, request: web.Request, *, changes_state: bool) -> Verdict:
        facts = Facts(
            host=request.headers.get("Host"),
            origin=request.headers.get("Origin"),
            token=request.headers.get(TOKEN_HEADER),
            session=self.sessions.find(request.cookies.get(self._cookie), self._clock.now_ns()),
            csrf=request.headers.get(CSRF_HEADER),
            changes_state=changes_state,
        )
        verdict = decide(facts, hosts=self._hosts, token=self._token)
        if verdict.status == 403:
            logger.warning("dashboard request refused", extra={"why": verdict.reason})
        return verdict

    def _refusal(self, verdict: Verdict, *, page: bool = False) -> web.Response:
        if page:
            text = f"<p>{html.escape(verdict.reason)}.</p><p>{_LOGIN_HELP}</p>"
            return self._html(_small_page("krakenbot: log in", text), status=verdict.status)
        return self._json({"error": verdict.reason}, status=verdict.status)

    def _html(self, text: str, status: int = 200) -> web.Response:
        return web.Response(text=text, status=status, content_type="text/html", headers=_HEADERS)

    def _json(self, doc: object, status: int = 200) -> web.Response:
        return web.Response(
            text=json.dumps(doc), status=status, content_type="application/json", headers=_HEADERS
        )

    # ------------------------------------------------------------------ pages
    async def _root(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/dashboard", headers=_HEADERS)

    async def _page(self, request: web.Request) -> web.Response:
        verdict = self._judge(request, changes_state=False)
        session = self.sessions.find(request.cookies.get(self._cookie), self._clock.now_ns())
        if not verdict.allowed or session is None:
            why = verdict if not verdict.allowed else Verdict(401, "log in first")
            return self._refusal(why, page=True)
        template = self._assets["index.html"][0].decode("utf-8")
        page = template.replace("{{CSRF}}", html.escape(session.csrf)).replace(
            "{{DESTRUCTIVE}}", html.escape(" ".join(sorted(DESTRUCTIVE)))
        )
        return self._html(page)

    async def _login(self, request: web.Request) -> web.Response:
        host = (request.headers.get("Host") or "").lower()
        if host not in self._hosts:
            return self._refusal(Verdict(403, "the Host header does not name this server"))
        redeemed = self.sessions.redeem(request.query.get("code", ""), self._clock.now_ns())
        if redeemed is None:
            why = Verdict(401, "this login link was used already, has expired or is wrong")
            return self._refusal(why, page=True)
        cookie, _ = redeemed
        response = web.HTTPSeeOther("/dashboard", headers=_HEADERS)
        response.set_cookie(self._cookie, cookie, httponly=True, samesite="Strict", path="/")
        logger.info("dashboard: a browser logged in")
        raise response

    async def _logout(self, request: web.Request) -> web.Response:
        verdict = self._judge(request, changes_state=True)
        if not verdict.allowed:
            return self._refusal(verdict)
        self.sessions.end(request.cookies.get(self._cookie))
        response = self._json({"ok": True})
        response.del_cookie(self._cookie, path="/")
        return response

    async def _login_link(self, request: web.Request) -> web.Response:
        verdict = self._judge(request, changes_state=True)
        if not verdict.by_token:
            return self._refusal(verdict if not verdict.allowed else Verdict(403, "token only"))
        return self._json({"url": self.login_link(), "dashboard": self.url})

    async def _static(self, request: web.Request) -> web.Response:
        verdict = self._judge(request, changes_state=False)
        if verdict.status == 403:
            return self._refusal(verdict)
        found = self._assets.get(request.match_info["name"])
        if found is None or request.match_info["name"] == "index.html":
            return self._json({"error": "not found"}, status=404)
        body, kind = found
        return web.Response(body=body, content_type=kind, headers=_HEADERS)

    # ------------------------------------------------------------------ controls
    async def _control(self, request: web.Request) -> web.Response:
        verdict = self._judge(request, changes_state=True)
        if not verdict.allowed:
            return self._refusal(verdict)
        try:
            action = Action(request.match_info["action"])
        except ValueError:
            return self._json({"error": "unknown action"}, status=404)
        who = "dashboard" if not verdict.by_token else f"krakenbot {action.value}"
        result = await self._controls.run(action, who)
        logger.info("operator control", extra={"action": action.value, "by": who})
        return self._json(result.to_json(), status=200 if result.ok else 409)

    # ------------------------------------------------------------------ live stream
    async def _events(self, request: web.Request) -> web.StreamResponse:
        verdict = self._judge(request, changes_state=False)
        if not verdict.allowed or verdict.by_token:
            return self._refusal(verdict if not verdict.allowed else Verdict(401, "log in"))
        listener = self.hub.listen()
        if listener is None:
            return self._json({"error": "too many dashboard pages are open"}, status=503)
        cookie = request.cookies.get(self._cookie)
        response = web.StreamResponse(headers={**_HEADERS, "Content-Type": "text/event-stream"})
        sent = 0
        try:
            await response.prepare(request)
            while self.sessions.find(cookie, self._clock.now_ns()) is not None:
                try:
                    async with asyncio.timeout(KEEPALIVE_S):
                        await listener.wake.wait()
                except TimeoutError:
                    await _write(response, KEEPALIVE)
                    continue
                listener.wake.clear()
                for topic, payload in listener.box.take():
                    sent += 1
                    await _write(response, sse_frame(topic, payload, sent))
        except (ConnectionError, TimeoutError, RuntimeError) as exc:
            logger.info("dashboard: a page's stream ended", extra={"why": type(exc).__name__})
        finally:
            self.hub.leave(listener)
        return response


async def _write(response: web.StreamResponse, data: bytes) -> None:
    """One write, bounded in time: a page that does not read is dropped, never waited for."""
    async with asyncio.timeout(WRITE_TIMEOUT_S):
        await response.write(data)


def _small_page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<link rel="stylesheet" href="/dashboard/static/dashboard.css"></head>'
        f'<body class="small"><h1>{title}</h1>{body}</body></html>'
    )


async def build_dashboard(
    report: Callable[[], StatusReport],
    controls: Controls,
    *,
    database: Path,
    clock: Clock,
    token: str,
) -> Dashboard:
    """The dashboard of a daemon: `report` is its status report, `database` its ledger (read
    on a connection of the dashboard's own)."""
    assets = await asyncio.to_thread(load_assets)
    dashboard: Dashboard

    def named() -> StatusReport:
        return dashboard.report()

    hub = DashboardHub(report=named, follower=LedgerFollower(database, clock), clock=clock)
    dashboard = Dashboard(
        report=report, controls=controls, hub=hub, token=token, clock=clock, assets=assets
    )
    return dashboard


__all__ = ["Dashboard", "build_dashboard", "load_assets"]
