"""Request value parsing shared by the REST and WebSocket shells (pure).

Owns: small value parsers (decimal text, booleans, RFC3339 timestamps, deadlines, client
order ids) and the shared error strings. Order parameters are read in sim/order_params.py.
Imports: stdlib only.
Facts: API.md §5.3 (REST AddOrder `deadline` now+2..60 s; `userref` int32 or `cl_ord_id`)
and §7.6 (WS add_order deadline now+0.5..60 s).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

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


def client_ids(userref: object, cl_ord_id: object) -> tuple[int | None, str | None, str | None]:
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
