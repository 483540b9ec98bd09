"""WebSocket v2 trading methods: add_order, batch_add, amend_order, edit_order, cancel_order,
cancel_all, cancel_all_orders_after, batch_cancel (docs websocket-v2/*; API.md §7.6).

Owns: one handler per method, `(ctx, params)`, answering with Kraken's acks (one per order
for cancel_order, an array for batch_add) and running the exchange core. Order parameters
(every order type, triggers, conditional close, ...) are read by sim/order_params.py.
Imports: stdlib and sim.* only.
"""

from __future__ import annotations

from krakenbot.sim import amend, edit, wire_ws
from krakenbot.sim.exchange import E_UNAVAILABLE
from krakenbot.sim.model import SimOrder, kraken_id
from krakenbot.sim.order_params import parse_ws_order
from krakenbot.sim.parse import E_ARGS, check_deadline, decimal_text
from krakenbot.sim.ws_ctx import Ctx

Json = dict[str, object]


def _order_ids(order: SimOrder) -> Json:
    out: Json = {"order_id": order.txid}
    if order.cl_ord_id is not None:
        out["cl_ord_id"] = order.cl_ord_id
    elif order.userref is not None:
        out["order_userref"] = order.userref
    return out


def m_add_order(ctx: Ctx, params: Json) -> None:
    state = ctx.hub.state
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=True)
    if err:
        ctx.err(err)
        return
    req = parse_ws_order(params, state.exchange.index, now)
    if isinstance(req, str):
        ctx.err(req)
        return
    order, err = state.exchange.add_order(req, now, ws=True)
    if err or order is None:
        ctx.err(err or E_ARGS)
        return
    result = _order_ids(order)
    if req.validate:
        result["order_id"] = ""
    ctx.ok(result)


def m_batch_add(ctx: Ctx, params: Json) -> None:
    state = ctx.hub.state
    ex = state.exchange
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=True)
    if err:
        ctx.err(err)
        return
    orders = params.get("orders")
    if not isinstance(orders, list) or not 2 <= len(orders) <= 15:
        ctx.err(f"{E_ARGS}:orders")
        return
    reqs = []
    for entry in orders:
        if not isinstance(entry, dict):
            ctx.err(f"{E_ARGS}:orders")
            return
        req = parse_ws_order(
            {**entry, "validate": params.get("validate", False)},
            ex.index,
            now,
            symbol=params.get("symbol"),
        )
        if isinstance(req, str):
            ctx.err(req)
            return
        err = ex.check_state(req) or ex.validate(req, ws=True)
        if err:
            ctx.err(err)
            return
        reqs.append(req)
    if reqs[0].validate:
        ctx.ok([{"order_id": ""} for _ in reqs])
        return
    if not ex.trading.charge_add(reqs[0].pair.symbol, now, n_orders=len(reqs)):
        ctx.err("EOrder:Rate limit exceeded")
        return
    results: list[Json] = []
    for req in reqs:
        order, err = ex.add_order(req, now, ws=True, charged=True)
        results.append(_order_ids(order) if order is not None else {"error": err})
    ctx.ok(results)


def m_cancel_order(ctx: Ctx, params: Json) -> None:
    ex = ctx.hub.state.exchange
    now = ctx.hub.state.now_ns()
    refs: list[tuple[str, str | int]] = []
    for name in ("order_id", "cl_ord_id", "order_userref"):
        values = params.get(name)
        if values is None:
            continue
        if not isinstance(values, list):
            values = [values]
        for v in values:
            refs.append((name, v if name == "order_userref" and isinstance(v, int) else str(v)))
    if not refs:
        ctx.err(f"{E_ARGS}:order_id")
        return
    for name, ref in refs:
        if name == "order_userref":
            found = [o for o in ex.open.values() if o.userref == ref]
        elif name == "cl_ord_id":
            found = [o for o in ex.open.values() if o.cl_ord_id == ref]
        else:
            found = [ex.open[ref]] if isinstance(ref, str) and ref in ex.open else []
        err = ex.cancel(found, now)
        if err:
            ctx.err(err)
        else:
            ctx.ok(
                {
                    name if name != "order_userref" else "order_id": ref
                    if name != "order_userref"
                    else found[0].txid
                }
            )


def m_amend_order(ctx: Ctx, params: Json) -> None:
    state = ctx.hub.state
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=True)
    if err:
        ctx.err(err)
        return
    parsed = amend.parse(params, ws=True)
    if isinstance(parsed, str):
        ctx.err(parsed)
        return
    ref, change = parsed
    err = amend.amend_ref(state.exchange, ref, change, now)
    if err:
        ctx.err(err)
        return
    # The ack names the order the way the request did (docs example: cl_ord_id).
    name = "order_id" if params.get("order_id") else "cl_ord_id"
    ctx.ok({"amend_id": kraken_id(state.exchange.rng, "T"), name: ref})


def m_edit_order(ctx: Ctx, params: Json) -> None:
    """Cancel and replace (sim/edit.py); the ack names the new and the original order."""
    state = ctx.hub.state
    now = state.now_ns()
    err = check_deadline(params.get("deadline"), now, ws=True)
    parsed = err or edit.parse_ws(params, state.exchange.index)
    if isinstance(parsed, str):
        ctx.err(parsed)
        return
    ref, spec, change = parsed
    done = edit.edit(state.exchange, ref, spec, change, now, ws=True)
    if isinstance(done, str):
        ctx.err(done)
        return
    new, original = done
    ctx.ok({"order_id": "" if change.validate else new.txid, "original_order_id": original.txid})


def m_cancel_all(ctx: Ctx, params: Json) -> None:
    ex = ctx.hub.state.exchange
    if ex.system == "maintenance":
        ctx.err(E_UNAVAILABLE)
        return
    ctx.ok({"count": ex.cancel_all(ctx.hub.state.now_ns())})


def m_cancel_all_after(ctx: Ctx, params: Json) -> None:
    timeout = decimal_text(params.get("timeout"))
    if timeout is None or timeout != int(timeout) or timeout >= 86400:
        ctx.err(f"{E_ARGS}:timeout")
        return
    now = ctx.hub.state.now_ns()
    trigger = ctx.hub.state.exchange.cancel_all_after(int(timeout), now)
    secs = now // 1_000_000_000 * 1_000_000_000
    ctx.ok(
        {
            "currentTime": wire_ws.ts(secs)[:19] + "Z",
            "triggerTime": wire_ws.ts(trigger)[:19] + "Z" if timeout else "0",
        }
    )


def m_batch_cancel(ctx: Ctx, params: Json) -> None:
    ex = ctx.hub.state.exchange
    refs = list(params.get("orders") or []) + list(params.get("cl_ord_id") or [])  # type: ignore[call-overload]
    if not 1 <= len(refs) <= 50:
        ctx.err(f"{E_ARGS}:orders")
        return
    found: list[SimOrder] = []
    for ref in refs:
        for o in ex.find_open(ref if isinstance(ref, int) else str(ref)):
            if o not in found:
                found.append(o)
    err = ex.cancel(found, ctx.hub.state.now_ns(), force=True) if found else None
    if err:
        ctx.err(err)
        return
    ctx.ok({"count": len(found)})


TRADING = {
    "add_order": m_add_order,
    "batch_add": m_batch_add,
    "cancel_order": m_cancel_order,
    "amend_order": m_amend_order,
    "edit_order": m_edit_order,
    "cancel_all": m_cancel_all,
    "cancel_all_orders_after": m_cancel_all_after,
    "batch_cancel": m_batch_cancel,
}
