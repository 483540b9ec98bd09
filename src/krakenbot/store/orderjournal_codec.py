"""The order journal's bytes: encode one record, decode a whole file. Pure.

Owns: `JournaledOrder` (an order as recorded before it was sent: the venue command, its tag,
whether it reduces a position, when it was created), `encode_order`, `encode_probe` and
`decode`. The I/O shell (append, fsync, import into the ledger) is store/orderjournal.py.
Imports: domain, errors; no I/O.

Format: one record per line, `<crc32 of the JSON, 8 hex digits> <compact JSON>`, each
written as `\\n<record>\\n`. The leading newline ends whatever a failed earlier append left
behind (a write cut short by a full disk), so a fragment can never swallow the next record:
it becomes a line of its own whose checksum fails. Such a line was never sent (an order is
sent only after its append returned and was fsynced), so `decode` reports it and goes on.
Money is exact decimal text, as in the ledger; times are integer nanoseconds.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce

VERSION = 1
MAX_LINE = 4096  # a record is ~400 bytes; anything longer is not one of ours
_ORDER = "order"
_PROBE = "probe"


@dataclass(frozen=True, slots=True)
class JournaledOrder:
    command: PlaceOrder
    tag: str
    reduces_position: bool
    created_ns: int


@dataclass(frozen=True, slots=True)
class Decoded:
    orders: tuple[JournaledOrder, ...]  # in file order, each cl_ord_id once
    unreadable: tuple[str, ...]  # "line N: why" for each line that is not a record
    probes: int = 0  # records that only proved the journal could be written


class JournalFormatError(ValueError):
    """One line is not a record of ours (checksum, JSON, field)."""


def encode_order(entry: JournaledOrder) -> bytes:
    c = entry.command
    doc: dict[str, Any] = {
        "v": VERSION,
        "kind": _ORDER,
        "cl_ord_id": c.cl_ord_id,
        "symbol": c.symbol,
        "side": c.side.value,
        "order_type": c.order_type.value,
        "qty": _text(c.qty),
        "limit_price": None if c.limit_price is None else _text(c.limit_price),
        "trigger_price": None if c.trigger_price is None else _text(c.trigger_price),
        "time_in_force": c.time_in_force.value,
        "post_only": c.post_only,
        "deadline_s": c.deadline_s,
        "expire_s": c.expire_s,
        "reduces_position": entry.reduces_position,
        "tag": entry.tag,
        "created_ns": entry.created_ns,
    }
    return _line(doc)


def encode_probe() -> bytes:
    return _line({"v": VERSION, "kind": _PROBE})


def decode(data: bytes) -> Decoded:
    """Every record of a journal file; never raises (bad lines are reported)."""
    orders: list[JournaledOrder] = []
    seen: set[str] = set()
    unreadable: list[str] = []
    probes = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            doc = _parse(raw)
            if doc.get("kind") == _PROBE:
                probes += 1
                continue
            entry = _order(doc)
        except JournalFormatError as exc:
            unreadable.append(f"line {number}: {exc}")
            continue
        if entry.command.cl_ord_id not in seen:
            seen.add(entry.command.cl_ord_id)
            orders.append(entry)
    return Decoded(tuple(orders), tuple(unreadable), probes)


def _line(doc: dict[str, Any]) -> bytes:
    body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return b"\n%08x %s\n" % (zlib.crc32(body), body)


def _text(value: Decimal) -> str:
    return format(value, "f")


def _parse(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_LINE:
        raise JournalFormatError(f"{len(raw)} bytes: too long for a record")
    head, _, body = raw.partition(b" ")
    try:
        crc = int(head, 16) if len(head) == 8 else -1
    except ValueError:
        crc = -1
    if crc != zlib.crc32(body):
        raise JournalFormatError("checksum mismatch (a write cut short?)")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise JournalFormatError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("v") != VERSION:
        raise JournalFormatError("not a version-1 record")
    return doc


def _order(doc: dict[str, Any]) -> JournaledOrder:
    if doc.get("kind") != _ORDER:
        raise JournalFormatError(f"unknown record kind {doc.get('kind')!r}")
    try:
        command = PlaceOrder(
            cl_ord_id=_str(doc, "cl_ord_id"),
            symbol=_str(doc, "symbol"),
            side=Side(doc["side"]),
            order_type=OrderType(doc["order_type"]),
            qty=_dec(doc["qty"]),
            limit_price=_opt_dec(doc["limit_price"]),
            time_in_force=TimeInForce(doc["time_in_force"]),
            post_only=_bool(doc, "post_only"),
            deadline_s=_opt_float(doc["deadline_s"]),
            reduces_position=_bool(doc, "reduces_position"),
            trigger_price=_opt_dec(doc["trigger_price"]),
            expire_s=_opt_float(doc["expire_s"]),
        )
        created = doc["created_ns"]
        if type(created) is not int or created < 0:
            raise JournalFormatError("created_ns is not a time")
        return JournaledOrder(command, _str(doc, "tag"), command.reduces_position, created)
    except KeyError as exc:
        raise JournalFormatError(f"missing field {exc}") from None
    except ValueError as exc:  # an unknown enum value
        raise JournalFormatError(str(exc)) from None


def _str(doc: dict[str, Any], key: str) -> str:
    value = doc[key]
    if not isinstance(value, str) or (key != "tag" and not value):
        raise JournalFormatError(f"{key} is not a text")
    return value


def _bool(doc: dict[str, Any], key: str) -> bool:
    value = doc[key]
    if not isinstance(value, bool):
        raise JournalFormatError(f"{key} is not true or false")
    return value


def _dec(value: object) -> Decimal:
    if not isinstance(value, str) or len(value) > 40:
        raise JournalFormatError(f"{value!r} is not a decimal")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise JournalFormatError(f"{value!r} is not a decimal") from None
    if not number.is_finite() or number <= 0 or not -30 < number.adjusted() < 20:
        raise JournalFormatError(f"{value!r} is not a positive amount of a sane size")
    return number


def _opt_dec(value: object) -> Decimal | None:
    return None if value is None else _dec(value)


def _opt_float(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JournalFormatError(f"{value!r} is not a duration")
    number = float(value)
    if not 0 <= number < 1e9:  # NaN and infinities fail too
        raise JournalFormatError(f"{value!r} is not a duration")
    return number


__all__ = [
    "Decoded",
    "JournalFormatError",
    "JournaledOrder",
    "decode",
    "encode_order",
    "encode_probe",
]
