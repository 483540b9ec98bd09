"""The simulator's control endpoint: `SimControl` for another process, over loopback HTTP.

Owns: `serve_control(sim, host)` — an aiohttp site on its own port answering
`POST /control/<op>` with a JSON object of keyword arguments and replying
`{"result": …}` (Decimals as exact text) or `{"error": "…"}` with HTTP 400 — and `OPS`, the
operations it exposes: every fault of `FaultInjector` (`faults.<name>`), market moves, feed
pause, system status, foreign orders, and the exchange's own view (orders, trades, balances,
mid prices). It is how the chaos suite (benchmarks/chaos) drives a simulator it started
with `python -m krakenbot sim --control`: faults injected while a real daemon runs against
it, the exchange's view read for the ledger audit.

Every request must carry the token printed with the endpoint's URL in `X-Sim-Control-Token`
(compared in constant time): a simulator is a throwaway exchange, but another local program
should still not be able to move its market by guessing a port.
Imports: aiohttp, stdlib and sim.*.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

from krakenbot.sim.server import Sim

TOKEN_HEADER = "X-Sim-Control-Token"
_FAULTS = (
    "latency",
    "http_status",
    "timeout",
    "lose_response",
    "garble_result",
    "kraken_error",
    "ws_drop",
    "ws_drop_on",
    "ws_refuse",
    "ws_malformed",
    "ws_truncated",
    "book_bad_checksum",
    "exec_duplicate",
    "exec_out_of_order",
    "exec_sequence_gap",
    "clear",
    "pending",
)
_CONTROL = (
    "set_mid",
    "market_trade",
    "set_index",
    "place_order",
    "pause_feed",
    "resume_feed",
    "set_system_status",
    "orders",
    "trades",
    "balances",
    "holds",
    "dead_man_trigger_ns",
)

Op = Callable[..., object]


def ops(sim: Sim) -> dict[str, Op]:
    """The operations by name: `faults.<fault>`, every name in `_CONTROL`, and `mids` (each
    pair's current mid price)."""
    control = sim.control
    table: dict[str, Op] = {f"faults.{name}": getattr(control.faults, name) for name in _FAULTS}
    table.update({name: getattr(control, name) for name in _CONTROL})
    markets = sim.state.exchange.markets
    table["mids"] = lambda: {symbol: Decimal(m.mid) for symbol, m in markets.items()}
    return table


def to_json(value: object) -> Any:
    """Plain JSON values; Decimal as its exact text, frozensets and tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    return value


def build_control_app(sim: Sim, token: str) -> web.Application:
    table = ops(sim)

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.json_response({"error": "bad or missing control token"}, status=403)
        op = table.get(request.match_info["op"])
        if op is None:
            return web.json_response({"error": "unknown operation"}, status=404)
        try:
            raw = await request.read()
            kwargs = json.loads(raw) if raw else {}
            if not isinstance(kwargs, dict):
                raise TypeError("the body must be a JSON object of keyword arguments")
            result = op(**kwargs)
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)
        return web.json_response({"result": to_json(result)})

    app = web.Application()
    app.router.add_post("/control/{op}", handle)
    return app


@dataclass(frozen=True, slots=True)
class ControlEndpoint:
    url: str
    token: str

    def __repr__(self) -> str:  # the token stays out of logs and tracebacks
        return f"ControlEndpoint(url={self.url!r})"


@contextlib.asynccontextmanager
async def serve_control(sim: Sim, host: str) -> AsyncIterator[ControlEndpoint]:
    """Serve the control endpoint on `host` (the simulator's, loopback) on a free port."""
    token = secrets.token_urlsafe(24)
    runner = web.AppRunner(build_control_app(sim, token), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
        port = int(runner.addresses[0][1])
        shown = f"[{host}]" if ":" in host else host
        yield ControlEndpoint(f"http://{shown}:{port}/control", token)
    finally:
        await runner.cleanup()
