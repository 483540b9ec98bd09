"""`GET /metrics`: the daemon's Prometheus metrics on its local HTTP server.

Owns: the aiohttp route (app/health_server.py adds it when the daemon has metrics). Like
`/health` it needs no token: Prometheus scrapes with a plain GET and no cookie, and the
server binds to loopback unless HEALTH_ALLOW_REMOTE is set (config checks that). What it
shows is what `/health` shows already, as numbers: states, counts, positions, PnL and
timings — never a secret, an order id or a trade id. Expose it beyond this machine only
behind a proxy that authenticates (README "Metrics"). Imports: aiohttp, stdlib, app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from krakenbot.app.metrics import CONTENT_TYPE

logger = logging.getLogger(__name__)
METRICS_PATH = "/metrics"


def add_metrics_route(app: web.Application, render: Callable[[], bytes]) -> None:
    """Serve `render()` (the Prometheus text exposition) at GET /metrics."""

    async def metrics(request: web.Request) -> web.Response:
        try:
            body = render()
        except Exception:  # a scrape must never take the server down
            logger.exception("rendering the metrics failed")
            return web.Response(status=500, text="metrics unavailable\n")
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get(METRICS_PATH, metrics)
