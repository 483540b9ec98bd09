"""Order parameters of REST AddOrder and WS v2 add_order → one `OrderRequest` (pure).

Owns: `parse_rest_order` and `parse_ws_order` (each field name as that API spells it), with
Kraken's error strings for what it refuses. Imports: stdlib and sim.* only; written from the
docs, independently of the client's codecs.

REST (docs rest-api/add-order): `ordertype` (ten types), `price` / `price2` (absolute or
`+`/`-`/`#` relative, `%` suffix), `trigger` last|index, `oflags` post,fcib,fciq,nompp,viqc,
`displayvol` (iceberg), `timeinforce`, `starttm` / `expiretm` (`0`, epoch, `+<n>`; expiretm
"+<n> ... minimum 5 seconds", "up to one month in future"), `close[ordertype]`,
`close[price]`, `close[price2]`, `leverage`, `reduce_only`, `stptype`.
WS v2 (docs websocket-v2/add_order; API.md §7.6): `order_type`, `limit_price` +
`limit_price_type`, `triggers{reference, price, price_type}`, `time_in_force`,
`expire_time` / `effective_time` (RFC3339), `post_only`, `reduce_only`, `margin`,
`display_qty`, `fee_preference` base|quote, `no_mpp`, `cash_order_qty` (a market buy sized in
quote), `stp_type` (underscores), `conditional{order_type, limit_price, limit_price_type,
trigger_price, trigger_price_type}`, `order_userref`.
The sim's account trades spot only: `leverage` / `margin` / `settle-position` are refused
as Kraken refuses an account not eligible for margin (`EOrder:Cannot open position`), and
`reduce_only` as it refuses one without a position (`EOrder:Reduce only:No position exists`).
A conditional close together with a `cl_ord_id` is refused: Kraken's own SDK documents that
"the exchange rejects both together" (krakenfx/kraken-api-sdk, guides/placing-orders.md);
the error text is not documented and chosen here.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from krakenbot.sim.model import CloseSpec, OrderRequest
from krakenbot.sim.pairs import PairIndex
from krakenbot.sim.parse import (
    E_ARGS,
    E_UNKNOWN_PAIR,
    NS,
    Params,
    client_ids,
    decimal_text,
    parse_rfc3339_ns,
    truthy,
)
from krakenbot.sim.prices import (
    LIMIT_LEG_TYPES,
    TRAILING_TYPES,
    TRIGGER_TYPES,
    PriceArg,
    rest_price,
    ws_price,
)

ORDER_TYPES = TRIGGER_TYPES | {"market", "limit", "iceberg", "settle-position"}
CLOSE_TYPES = ORDER_TYPES - {"market", "settle-position"}  # docs: close[ordertype] enum
PRICED = ORDER_TYPES - {"market", "settle-position"}
FLAGS = frozenset({"post", "fcib", "fciq", "nompp", "viqc"})
E_MARGIN = "EOrder:Cannot open position"
E_REDUCE_ONLY = "EOrder:Reduce only:No position exists"
MONTH_NS = 31 * 86400 * NS
_STP_REST = ("cancel-newest", "cancel-oldest", "cancel-both")
_STP_WS = ("cancel_newest", "cancel_oldest", "cancel_both")


def _time(value: object, now_ns: int, *, minimum_s: int = 0) -> int | None:
    """REST `starttm` / `expiretm`: `+<n>` seconds from now, or an epoch; None if invalid."""
    text = str(value).strip()
    if text.startswith("+"):
        secs = decimal_text(text[1:])
        if secs is None or secs < minimum_s:
            return None
        return now_ns + int(secs * NS)
    if text.isdigit():
        return int(text) * NS
    return parse_rfc3339_ns(text)


def _close_field(params: Params, name: str) -> object:
    nested = params.get("close")
    if isinstance(nested, dict):
        return nested.get(name)
    # `close[price]` in a form; `orders[0][close][price]` arrives as `close][price`.
    return params.get(f"close[{name}]", params.get(f"close][{name}"))


def _rest_close(params: Params) -> CloseSpec | str | None:
    kind = _close_field(params, "ordertype")
    if kind in (None, ""):
        return None
    if kind not in CLOSE_TYPES:
        return f"{E_ARGS}:close[ordertype]"
    price = rest_price(_close_field(params, "price"))
    if price is None:
        return f"{E_ARGS}:close[price]"
    raw2 = _close_field(params, "price2")
    price2 = None if raw2 in (None, "") else rest_price(raw2)
    if (raw2 not in (None, "") and price2 is None) or (kind in LIMIT_LEG_TYPES and not price2):
        return f"{E_ARGS}:close[price2]"
    return CloseSpec(str(kind), price, price2)


def _spot_only(leverage: object, reduce_only: object, ordertype: str) -> str | None:
    if ordertype == "settle-position" and leverage in (None, "", "none"):
        return f"{E_ARGS}:leverage"
    if leverage not in (None, "", "none") or ordertype == "settle-position":
        return E_MARGIN
    if truthy(reduce_only or False):
        return E_REDUCE_ONLY
    return None


def _times(
    params: Params, now_ns: int, tif: str, start_key: str, expire_key: str, *, ws: bool
) -> tuple[int | None, int | None] | str:
    start_ns = expire_ns = None
    raw_start = params.get(start_key)
    if raw_start not in (None, "", "0", 0):
        start_ns = parse_rfc3339_ns(str(raw_start)) if ws else _time(raw_start, now_ns)
        if start_ns is None:
            return f"{E_ARGS}:{start_key}"
    raw_expire = params.get(expire_key)
    if tif == "GTD" or raw_expire not in (None, "", "0", 0):
        if ws:
            expire_ns = parse_rfc3339_ns(str(raw_expire)) if raw_expire else None
        else:
            expire_ns = _time(raw_expire or "", now_ns, minimum_s=5)
        if expire_ns is None or expire_ns <= now_ns or expire_ns - now_ns > MONTH_NS:
            return f"{E_ARGS}:{expire_key}"
    return start_ns, expire_ns


def parse_rest_order(
    params: Params, index: PairIndex, now_ns: int, *, pair: object = None
) -> OrderRequest | str:
    """REST AddOrder / AddOrderBatch entry parameters → OrderRequest or an error string."""
    pair_name = pair if pair is not None else params.get("pair")
    if not pair_name:
        return f"{E_ARGS}:pair"
    spec = index.resolve(str(pair_name))
    if spec is None:
        return E_UNKNOWN_PAIR
    side = str(params.get("type", ""))
    if side not in ("buy", "sell"):
        return f"{E_ARGS}:type"
    ordertype = str(params.get("ordertype", ""))
    if ordertype not in ORDER_TYPES:
        return f"{E_ARGS}:ordertype"
    err = _spot_only(params.get("leverage"), params.get("reduce_only"), ordertype)
    if err:
        return err
    volume = decimal_text(params.get("volume"))
    if volume is None:
        return f"{E_ARGS}:volume"
    price = price2 = None
    if ordertype in PRICED and params.get("price") not in (None, ""):
        price = rest_price(params.get("price"))
        if price is None:
            return f"{E_ARGS}:price"
    if ordertype in LIMIT_LEG_TYPES and params.get("price2") not in (None, ""):
        price2 = rest_price(params.get("price2"))
        if price2 is None:
            return f"{E_ARGS}:price2"
    flags = frozenset(
        f.strip() for f in str(params.get("oflags", "") or "").split(",") if f.strip()
    )
    if flags - FLAGS or {"fcib", "fciq"} <= flags:
        return f"{E_ARGS}:oflags"
    trigger = str(params.get("trigger") or "last")
    if trigger not in ("last", "index"):
        return f"{E_ARGS}:trigger"
    if params.get("stptype") not in (None, "", *_STP_REST):
        return f"{E_ARGS}:stptype"
    display = None
    if params.get("displayvol") not in (None, ""):
        display = decimal_text(params.get("displayvol"))
        if display is None:
            return f"{E_ARGS}:displayvol"
    tif = str(params.get("timeinforce", "GTC") or "GTC").upper()
    if tif not in ("GTC", "IOC", "GTD"):
        return f"{E_ARGS}:timeinforce"
    times = _times(params, now_ns, tif, "starttm", "expiretm", ws=False)
    if isinstance(times, str):
        return times
    close = _rest_close(params)
    if isinstance(close, str):
        return close
    return _request(
        params.get("userref"),
        params.get("cl_ord_id"),
        OrderRequest(
            pair=spec,
            side=side,
            ordertype=ordertype,
            volume=volume,
            price=price,
            price2=price2,
            flags=flags,
            tif=tif,
            start_ns=times[0],
            expire_ns=times[1],
            trigger=trigger,
            display=display,
            close=close,
            validate=truthy(params.get("validate", False)),
        ),
    )


def _request(userref: object, cl_ord_id: object, req: OrderRequest) -> OrderRequest | str:
    """`req` with its client ids, or why Kraken refuses them."""
    ref, cid, err = client_ids(userref, cl_ord_id)
    if err:
        return err
    if req.close is not None and cid is not None:
        return f"{E_ARGS}:cl_ord_id"
    return replace(req, userref=ref, cl_ord_id=cid)


def _ws_limit(ordertype: str, params: Params, name: str, type_name: str) -> PriceArg | str | None:
    """A WS limit price; a trailing-stop-limit's is an offset from its trigger price, whatever
    its unit (docs websocket-v2/add_order `limit_price_type`)."""
    raw = params.get(name)
    if raw is None:
        return None
    price_type = params.get(type_name)
    arg = ws_price(raw, price_type)
    if arg is None:
        return f"{E_ARGS}:{name}"
    if ordertype == "trailing-stop-limit" and not arg.relative:
        number = Decimal(str(raw))
        return PriceArg(abs(number), "-" if number < 0 else "+", price_type == "pct")
    return arg


def _ws_trigger(ordertype: str, triggers: object) -> tuple[PriceArg, str] | str:
    if not isinstance(triggers, dict):
        return f"{E_ARGS}:triggers"
    reference = triggers.get("reference", "last")
    arg = ws_price(triggers.get("price"), triggers.get("price_type"))
    if reference not in ("last", "index") or arg is None:
        return f"{E_ARGS}:triggers"
    if ordertype in TRAILING_TYPES and arg.sign != "+":
        return f"{E_ARGS}:triggers"  # a trailing distance: quote or pct, positive
    return arg, str(reference)


def _ws_close(params: Params) -> CloseSpec | str | None:
    raw = params.get("conditional")
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("order_type") not in CLOSE_TYPES:
        return f"{E_ARGS}:conditional"
    kind = str(raw["order_type"])
    trigger = None
    if raw.get("trigger_price") is not None:
        trigger = ws_price(raw.get("trigger_price"), raw.get("trigger_price_type"))
    limit = _ws_limit(kind, raw, "limit_price", "limit_price_type")
    if isinstance(limit, str) or (raw.get("trigger_price") is not None and trigger is None):
        return f"{E_ARGS}:conditional"
    if kind in ("limit", "iceberg"):
        trigger, limit = limit, None
    if trigger is None or (kind in LIMIT_LEG_TYPES and limit is None):
        return f"{E_ARGS}:conditional"
    return CloseSpec(kind, trigger, limit)


def parse_ws_order(
    params: Params, index: PairIndex, now_ns: int, *, symbol: object = None
) -> OrderRequest | str:
    """WS v2 add_order / batch_add entry parameters → OrderRequest or an error string."""
    sym = symbol if symbol is not None else params.get("symbol")
    if not sym:
        return f"{E_ARGS}:symbol"
    spec = index.resolve(str(sym))
    if spec is None or spec.symbol != str(sym):
        return f"Currency pair not supported {sym}"
    side = params.get("side")
    if side not in ("buy", "sell"):
        return f"{E_ARGS}:side"
    ordertype = params.get("order_type")
    if ordertype not in ORDER_TYPES:
        return f"{E_ARGS}:order_type"
    kind = str(ordertype)
    margin = "1" if truthy(params.get("margin", False)) else None
    err = _spot_only(margin, params.get("reduce_only"), kind)
    if err:
        return err
    flags: set[str] = set()
    volume = decimal_text(params.get("order_qty"))
    if params.get("cash_order_qty") is not None:
        volume = decimal_text(params.get("cash_order_qty"))
        flags.add("viqc")
    if volume is None:
        return f"{E_ARGS}:order_qty"
    price = price2 = None
    trigger = "last"
    if kind in TRAILING_TYPES or kind in LIMIT_LEG_TYPES or kind in ("stop-loss", "take-profit"):
        found = _ws_trigger(kind, params.get("triggers"))
        if isinstance(found, str):
            return found
        price, trigger = found
        limit = _ws_limit(kind, params, "limit_price", "limit_price_type")
        if isinstance(limit, str):
            return limit
        price2 = limit if kind in LIMIT_LEG_TYPES else None
    elif kind in ("limit", "iceberg"):
        limit = _ws_limit(kind, params, "limit_price", "limit_price_type")
        if isinstance(limit, str):
            return limit
        price = limit
    tif = str(params.get("time_in_force", "gtc")).upper()
    if tif not in ("GTC", "IOC", "GTD"):
        return f"{E_ARGS}:time_in_force"
    times = _times(params, now_ns, tif, "effective_time", "expire_time", ws=True)
    if isinstance(times, str):
        return times
    if truthy(params.get("post_only", False)):
        flags.add("post")
    if truthy(params.get("no_mpp", False)):
        flags.add("nompp")
    preference = params.get("fee_preference")
    if preference not in (None, "base", "quote"):
        return f"{E_ARGS}:fee_preference"
    if preference is not None:
        flags.add("fcib" if preference == "base" else "fciq")
    if params.get("stp_type") not in (None, *_STP_WS):
        return f"{E_ARGS}:stp_type"
    display = None
    if params.get("display_qty") is not None:
        display = decimal_text(params.get("display_qty"))
        if display is None:
            return f"{E_ARGS}:display_qty"
    close = _ws_close(params)
    if isinstance(close, str):
        return close
    return _request(
        params.get("order_userref"),
        params.get("cl_ord_id"),
        OrderRequest(
            pair=spec,
            side=str(side),
            ordertype=kind,
            volume=volume,
            price=price,
            price2=price2,
            flags=frozenset(flags),
            tif=tif,
            start_ns=times[0],
            expire_ns=times[1],
            trigger=trigger,
            display=display,
            close=close,
            validate=truthy(params.get("validate", False)),
        ),
    )
