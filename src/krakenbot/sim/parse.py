"""Request parameter parsing shared by the REST and WebSocket shells (pure).

Owns: turning Kraken request parameters (REST AddOrder names or WS v2 add_order names) into
an `OrderRequest` or a Kraken error string, plus small value parsers (decimal text, booleans,
RFC3339 timestamps, deadlines). Imports: stdlib and sim.* only.
Facts: API.md §5.3 (REST AddOrder params: timeinforce GTC/IOC/GTD, expiretm `+n`/epoch,
deadline now+2..60 s) and §7.6 (WS add_order: time_in_force lower case, order_userref,
deadline now+0.5..60 s).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from krakenbot.sim.model import OrderRequest
from krakenbot.sim.pairs import PairIndex

NS = 1_000_000_000
E_ARGS = "EGeneral:Invalid arguments"
E_UNKNOWN_PAIR = "EQuery:Unknown asset pair"
E_DEADLINE = "EService:Deadline elapsed"
_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_CL_ORD_ID = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{32}|[\x20-\x7e]{1,18})$"
)
Params = dict[str, object]


def decimal_text(value: object) -> Decimal | None:
    """A non-negative plain decimal from wire text (or a JSON number's text), else None."""
    text = (
        value
        if isinstance(value, str)
        else (str(value) if isinstance(value, int | Decimal) else None)
    )
    if text is None or not _NUMBER.match(text.strip()):
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1", "yes")


def parse_rfc3339_ns(text: str) -> int | None:
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return int(stamp.timestamp()) * NS + stamp.microsecond * 1000


def check_deadline(value: object, now_ns: int, *, ws: bool) -> str | None:
    """Kraken's `deadline`: past ⇒ `EService:Deadline elapsed`; too far ⇒ invalid."""
    if value is None or value == "":
        return None
    deadline = parse_rfc3339_ns(str(value))
    if deadline is None:
        return f"{E_ARGS}:deadline"
    if deadline <= now_ns:
        return E_DEADLINE
    if deadline - now_ns > 60 * NS:
        return f"{E_ARGS}:deadline"
    return None


def _expire(value: object, now_ns: int) -> int | None:
    text = str(value).strip()
    if text.startswith("+"):
        secs = decimal_text(text[1:])
        return None if secs is None else now_ns + int(secs * NS)
    if text.isdigit():
        return int(text) * NS
    return parse_rfc3339_ns(text)


def _client_ids(userref: object, cl_ord_id: object) -> tuple[int | None, str | None, str | None]:
    ref: int | None = None
    cid: str | None = None
    if userref not in (None, ""):
        try:
            ref = int(str(userref))
        except ValueError:
            return None, None, f"{E_ARGS}:userref"
        if not -(2**31) <= ref < 2**31:
            return None, None, f"{E_ARGS}:userref"
    if cl_ord_id not in (None, ""):
        cid = str(cl_ord_id)
        if not _CL_ORD_ID.match(cid):
            return None, None, f"{E_ARGS}:cl_ord_id"
    if ref is not None and cid is not None:
        return None, None, f"{E_ARGS}:userref and cl_ord_id are mutually exclusive"
    return ref, cid, None


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
    if ordertype not in ("market", "limit"):
        return f"{E_ARGS}:ordertype"
    volume = decimal_text(params.get("volume"))
    if volume is None:
        return f"{E_ARGS}:volume"
    price = None
    if ordertype == "limit":
        price = decimal_text(params.get("price"))
        if price is None:
            return f"{E_ARGS}:price"
    flags = {f.strip() for f in str(params.get("oflags", "") or "").split(",") if f.strip()}
    if flags - {"post", "fcib", "fciq", "nompp", "viqc"}:
        return f"{E_ARGS}:oflags"
    if "post" in flags and ordertype != "limit":
        return f"{E_ARGS}:oflags"
    tif = str(params.get("timeinforce", "GTC") or "GTC").upper()
    if tif not in ("GTC", "IOC", "GTD"):
        return f"{E_ARGS}:timeinforce"
    expire_ns = None
    if tif == "GTD" or params.get("expiretm") not in (None, "", "0"):
        expire_ns = _expire(params.get("expiretm", ""), now_ns)
        if expire_ns is None or expire_ns <= now_ns:
            return f"{E_ARGS}:expiretm"
    userref, cl_ord_id, err = _client_ids(params.get("userref"), params.get("cl_ord_id"))
    if err:
        return err
    return OrderRequest(
        pair=spec,
        side=side,
        ordertype=ordertype,
        volume=volume,
        price=price,
        post_only="post" in flags,
        tif=tif,
        expire_ns=expire_ns,
        userref=userref,
        cl_ord_id=cl_ord_id,
        validate=truthy(params.get("validate", False)),
        fee_in_base="fcib" in flags,
    )


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
    if ordertype not in ("market", "limit"):
        return f"{E_ARGS}:order_type"
    volume = decimal_text(params.get("order_qty"))
    if volume is None:
        return f"{E_ARGS}:order_qty"
    price = None
    if ordertype == "limit":
        price = decimal_text(params.get("limit_price"))
        if price is None:
            return f"{E_ARGS}:limit_price"
    tif = str(params.get("time_in_force", "gtc")).upper()
    if tif not in ("GTC", "IOC", "GTD"):
        return f"{E_ARGS}:time_in_force"
    expire_ns = None
    if tif == "GTD":
        raw = params.get("expire_time")
        expire_ns = parse_rfc3339_ns(str(raw)) if raw else None
        if expire_ns is None or expire_ns <= now_ns:
            return f"{E_ARGS}:expire_time"
    post_only = truthy(params.get("post_only", False))
    if post_only and ordertype != "limit":
        return f"{E_ARGS}:post_only"
    userref, cl_ord_id, err = _client_ids(params.get("order_userref"), params.get("cl_ord_id"))
    if err:
        return err
    return OrderRequest(
        pair=spec,
        side=str(side),
        ordertype=str(ordertype),
        volume=volume,
        price=price,
        post_only=post_only,
        tif=tif,
        expire_ns=expire_ns,
        userref=userref,
        cl_ord_id=cl_ord_id,
        validate=truthy(params.get("validate", False)),
        fee_in_base=params.get("fee_preference") == "base",
    )
