"""The simulator's REST shell: Kraken's `/0/public/<M>` and `/0/private/<M>` over aiohttp.

Owns: request body parsing (form or JSON, kept as raw bytes for signature checks), the
auth → permission → REST-counter pipeline, the `{"error":[…],"result":…}` envelope (HTTP 200
for API errors, legacy shape: no `result` on failure) and HTTP-level faults. The methods
themselves live in rest_methods.py. Imports: aiohttp, orjson, stdlib and sim.*.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from krakenbot.sim import rest_methods
from krakenbot.sim.auth import ERR_PERMISSION, verify
from krakenbot.sim.faults import GARBLE_RESULT, HTTP_STATUS, KRAKEN_ERROR, LOSE_RESPONSE, TIMEOUT
from krakenbot.sim.state import SimState

logger = logging.getLogger(__name__)
STATE_KEY = web.AppKey("sim_state", SimState)
CLOSING_KEY = web.AppKey("sim_closing", asyncio.Event)
_JSON = "application/json"
_HANG_LIMIT_S = 300.0


def _nest_form(pairs: list[tuple[str, str]]) -> dict[str, object]:
    """Form fields; `orders[0][type]=buy` style keys become a list of dicts (AddOrderBatch)."""
    out: dict[str, object] = {}
    batch: dict[int, dict[str, object]] = {}
    for key, value in pairs:
        if key.startswith("orders[") and "][" in key:
            idx_text, _, field = key[len("orders[") :].partition("][")
            if idx_text.isdigit():
                batch.setdefault(int(idx_text), {})[field.rstrip("]")] = value
                continue
        if key.endswith("[]"):
            existing = out.setdefault(key[:-2], [])
            if isinstance(existing, list):
                existing.append(value)
            continue
        out[key] = value
    if batch:
        out["orders"] = [batch[i] for i in sorted(batch)]
    return out


def parse_params(raw: bytes, content_type: str) -> dict[str, object] | None:
    """The request's parameters, or None for a body Kraken would refuse: not UTF-8, not JSON,
    nested deeper than the interpreter's stack, or holding a lone surrogate (a `\\ud800`
    escape names no character; it could be neither signed, echoed nor stored)."""
    if not raw:
        return {}
    try:
        if "json" in content_type:
            # Keep JSON numbers' text (parse_float=str) so money is never a float.
            parsed = json.loads(raw, parse_float=str)
            if not isinstance(parsed, dict):
                return None
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")  # raises on a surrogate
            return parsed
        return _nest_form(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (ValueError, RecursionError):  # JSON and Unicode errors are ValueErrors
        return None


def envelope(result: object | None, error: str | None) -> web.Response:
    body = {"error": [error]} if error else {"error": [], "result": result}
    return web.Response(body=orjson.dumps(body), content_type=_JSON)


async def _pre_faults(request: web.Request, state: SimState, method: str) -> web.Response | None:
    faults = state.faults
    if faults.latency_s:
        await asyncio.sleep(faults.latency_s)
    fault = faults.take_http(method, (HTTP_STATUS, TIMEOUT, KRAKEN_ERROR))
    if fault is None:
        return None
    if fault.kind == HTTP_STATUS:
        return web.Response(
            status=fault.status,
            text=f"<html>error code: {fault.status}</html>",
            content_type="text/html",
        )
    if fault.kind == KRAKEN_ERROR:
        return envelope(None, fault.error)
    closing = request.app[CLOSING_KEY]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(closing.wait(), _HANG_LIMIT_S)
    return web.Response(status=504, text="timeout")


async def handle_public(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    method = request.match_info["method"]
    early = await _pre_faults(request, state, method)
    if early is not None:
        return early
    fn = rest_methods.PUBLIC.get(method)
    if fn is None:
        return envelope(None, "EGeneral:Unknown method")
    params: dict[str, object] = dict(request.query)
    if request.method == "POST":
        body = parse_params(await request.read(), request.content_type)
        if body is None:
            return envelope(None, "EGeneral:Invalid arguments")
        params.update(body)
    if method in rest_methods.HISTORY:
        if state.cfg.public_rate_limit and not state.public_counters.charge(
            _history_key(state, request, params), state.now_ns()
        ):
            return envelope(None, "EGeneral:Too many requests")
        state.history_calls.append((method, {k: str(v) for k, v in params.items()}, state.now_ns()))
    result, error = fn(state, params)
    return envelope(result, error)


def _history_key(state: SimState, request: web.Request, params: dict[str, object]) -> str:
    """Kraken limits Trades/OHLC per client IP and pair (any spelling of the pair)."""
    name = str(params.get("pair") or "")
    spec = state.exchange.index.resolve(name)
    return f"{request.remote}|{spec.rest_id if spec else name.upper()}"


async def handle_private(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    method = request.match_info["method"]
    raw = await request.read()
    early = await _pre_faults(request, state, method)
    if early is not None:
        return early
    entry = rest_methods.PRIVATE.get(method)
    if entry is None:
        return envelope(None, "EGeneral:Unknown method")
    state.requests[f"rest:{method}"] += 1
    params = parse_params(raw, request.content_type)
    if params is None:
        return envelope(None, "EAPI:Bad request")
    nonce = params.get("nonce")
    nonce_text = None if nonce is None else str(nonce)
    key, err = verify(
        state.keys,
        request.headers.get("API-Key"),
        request.headers.get("API-Sign"),
        uri_path=request.path,
        nonce=nonce_text,
        body=raw,
    )
    if err or key is None:
        return envelope(None, err)
    shown = {k: str(v) for k, v in params.items() if k not in ("nonce", "otp")}
    state.private_calls.append((method, shown, state.now_ns()))
    permission, fn = entry
    if permission not in key.permissions:
        return envelope(None, ERR_PERMISSION)
    limited = state.cfg.rest_rate_limit
    if limited and not state.rest_counters.charge(key.key, method, state.now_ns()):
        return envelope(None, "EAPI:Rate limit exceeded")
    state.exchange.acting_key = key.key  # the orders this request places are this key's
    try:
        result, error = fn(state, params)
    finally:
        state.exchange.acting_key = ""
    state.changed()
    if state.faults.take_http(method, (LOSE_RESPONSE,)) is not None:
        # The request executed; the client never learns the outcome (ambiguous order).
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=502)  # never reaches the client: the socket is gone
    if state.faults.take_http(method, (GARBLE_RESULT,)) is not None:
        return envelope({"descr": ["garbled"], "txid": 0}, None)  # executed, unreadable
    return envelope(result, error)


def build_app(state: SimState, closing: asyncio.Event) -> web.Application:
    app = web.Application(client_max_size=1 << 20)
    app[STATE_KEY] = state
    app[CLOSING_KEY] = closing
    app.router.add_route("GET", "/0/public/{method}", handle_public)
    app.router.add_route("POST", "/0/public/{method}", handle_public)
    app.router.add_route("POST", "/0/private/{method}", handle_private)
    return app
