"""Order prices as Kraken accepts them, and the trigger arithmetic of its order types (pure).

Owns: `PriceArg` (an absolute price or a relative one), reading it from REST text and from
WS v2 number + `price_type`, rendering it back, and the trigger rules: when a stop / take-profit
fires, how a trailing stop follows the price, what a `#` offset means. Written from Kraken's
docs, independently of the client's codecs (architecture rule). Imports: stdlib only.

Facts (docs.kraken.com/api/docs/rest-api/add-order, `price` / `price2`; websocket-v2/add_order
`triggers`, `limit_price_type`):
* "Either price or price2 can be preceded by +, -, or # to specify the order price as an offset
  relative to the last traded price. + adds the amount to, and - subtracts the amount from the
  last traded price. # will either add or subtract the amount to the last traded price,
  depending on the direction and order type used. Prices can also be suffixed with a % to
  signify the relative amount as a percentage."
* Trailing stops: `price` "Must use a relative price ... namely the + prefix, from which the
  direction will be automatic based on if the original order is a buy or sell"; trailing-stop-
  limit `price2` must be `+` or `-`: "the offset from the trigger price to the limit price,
  i.e. +0 would set the limit price equal to the trigger price".
* stop-loss(-limit): "triggered when the reference price reaches the stop price (from an
  unfavourable direction)"; take-profit(-limit): "(from a favourable direction)";
  trailing-stop(-limit): "triggered when the market reverts a specified distance from the
  peak price" (docs: websocket-v2/add_order `order_type`).
* WS v2: `price_type` static (a price) | quote (an offset in quote currency) | pct (percent);
  the direction rides the number's sign.
Not stated by the docs, chosen here (and listed in the README's simulator section): `#` is
the direction in which the order does not execute at once (below the last price for a buy
limit or take-profit, above it for a buy stop; the reverse for sells); a price resolved from a
relative one is rounded to the pair's tick half-even (a real trailing stop at +50% of 0.50527
shows stopprice 0.75790: 0.757905 rounded half-even).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

_REST = re.compile(r"^([+#-]?)([0-9]+(?:\.[0-9]+)?)(%?)$")
HUNDRED = Decimal(100)
TRIGGER_TYPES = frozenset(
    {
        "stop-loss",
        "take-profit",
        "stop-loss-limit",
        "take-profit-limit",
        "trailing-stop",
        "trailing-stop-limit",
    }
)
TRAILING_TYPES = frozenset({"trailing-stop", "trailing-stop-limit"})
LIMIT_LEG_TYPES = frozenset({"stop-loss-limit", "take-profit-limit", "trailing-stop-limit"})
_PROFIT_TYPES = frozenset({"take-profit", "take-profit-limit"})
# What each type's order text calls it (descr.order, e.g. "@ stop loss 55.0 -> limit 54.0").
WORDS = {
    "market": "market",
    "limit": "limit",
    "iceberg": "iceberg",
    "stop-loss": "stop loss",
    "take-profit": "take profit",
    "stop-loss-limit": "stop loss",
    "take-profit-limit": "take profit",
    "trailing-stop": "trailing stop",
    "trailing-stop-limit": "trailing stop",
    "settle-position": "settle position",
}


@dataclass(frozen=True, slots=True)
class PriceArg:
    """`value` as written (never negative); `sign` "" for an absolute price, else "+", "-"
    or "#"; `pct` for a percentage offset."""

    value: Decimal
    sign: str = ""
    pct: bool = False

    @property
    def relative(self) -> bool:
        return bool(self.sign)


def rest_price(text: object) -> PriceArg | None:
    """REST `price` / `price2` text → PriceArg; None when Kraken would not read it."""
    if isinstance(text, bool) or not isinstance(text, str | int | Decimal):
        return None
    match = _REST.match(str(text).strip())
    if match is None:
        return None
    sign, number, pct = match.groups()
    if pct and not sign:
        return None
    try:
        return PriceArg(Decimal(number), sign, bool(pct))
    except InvalidOperation:
        return None


def ws_price(value: object, price_type: object) -> PriceArg | None:
    """WS v2 number (text from the JSON parser) + `price_type` → PriceArg; None if invalid."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    kind = "static" if price_type is None else price_type
    if not number.is_finite() or kind not in ("static", "quote", "pct"):
        return None
    if kind == "static":
        return PriceArg(number) if number >= 0 else None
    return PriceArg(abs(number), "-" if number < 0 else "+", kind == "pct")


def render(arg: PriceArg, decimals: int) -> str:
    """As Kraken prints it in `descr.price`: `+50.0000%` (4 decimals for a percentage, as in a
    real trailing stop reply), `+0.05000` (an offset, pair decimals), `0.28000` (a price)."""
    if arg.pct:
        return f"{arg.sign}{arg.value:.4f}%"
    return f"{arg.sign}{arg.value:.{decimals}f}"


def offset(arg: PriceArg, ref: Decimal) -> Decimal:
    """The size of a relative price against `ref` (percent of it, or the amount itself)."""
    return ref * arg.value / HUNDRED if arg.pct else arg.value


def passive_sign(side: str, ordertype: str) -> int:
    """`#`: +1 above the reference, -1 below it — where the order would not execute at once.
    A buy limit / take-profit rests below the market, a buy stop above it; sells mirror that.
    The limit leg of a stop-limit sits on its trigger's side of the market, so the same."""
    below = ordertype in ("limit", "iceberg") or ordertype in _PROFIT_TYPES
    if side == "buy":
        return -1 if below else 1
    return 1 if below else -1


def resolve(arg: PriceArg, ref: Decimal, sign_for_hash: int, tick: Decimal) -> Decimal:
    """An absolute price from `arg` against the reference price `ref`, on the pair's tick."""
    if not arg.relative:
        return arg.value
    step = offset(arg, ref)
    direction = {"+": 1, "-": -1}.get(arg.sign, sign_for_hash)
    return on_tick(ref + direction * step, tick)


def on_tick(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick


def fires(ordertype: str, side: str, stop: Decimal, ref: Decimal) -> bool:
    """Has the reference price reached the trigger? Stops (and trailing stops) fire from the
    unfavourable direction, take-profits from the favourable one."""
    if ordertype in _PROFIT_TYPES:
        return ref >= stop if side == "sell" else ref <= stop
    return ref <= stop if side == "sell" else ref >= stop


def follow(side: str, peak: Decimal, ref: Decimal) -> Decimal:
    """A trailing stop's peak: the highest price seen for a sell, the lowest for a buy."""
    return max(peak, ref) if side == "sell" else min(peak, ref)


def trailing_stop(side: str, peak: Decimal, arg: PriceArg, tick: Decimal) -> Decimal:
    """The trigger a distance `arg` behind the peak: below it for a sell, above for a buy."""
    distance = offset(arg, peak)
    return on_tick(peak - distance if side == "sell" else peak + distance, tick)


def limit_from_trigger(stop: Decimal, arg: PriceArg, tick: Decimal) -> Decimal:
    """A trailing-stop-limit's limit: the trigger price plus (+) or minus (-) its offset."""
    distance = offset(arg, stop)
    return on_tick(stop - distance if arg.sign == "-" else stop + distance, tick)
