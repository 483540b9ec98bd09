"""Values of the simulated exchange: orders, fills, order requests and emitted events.

Owns: `SimOrder` (the exchange's mutable record of one order, any of Kraken's ten types),
`Fill`, `OrderRequest` (a validated-shape add request from REST or WS), `CloseSpec` (a
conditional close), `descr` / `close_descr` (Kraken's order texts), and the events the core
emits for the WS shell (`ExecEvent`, `LedgerEvent`). Imports: stdlib and sim.pairs / sim.prices.
"""

from __future__ import annotations

import operator
import random
import string
from dataclasses import dataclass, field
from decimal import Decimal

from krakenbot.sim.pairs import PairSpec
from krakenbot.sim.prices import TRIGGER_TYPES, WORDS, PriceArg, render

ZERO = Decimal(0)
_ALPHABET = string.ascii_uppercase + string.digits


def kraken_id(rng: random.Random, prefix: str) -> str:
    """An id shaped like Kraken's txids: `OXXXXX-XXXXX-XXXXXX` (6-5-6)."""
    body = "".join(rng.choices(_ALPHABET, k=16))
    return f"{prefix}{body[:5]}-{body[5:10]}-{body[10:]}"


@dataclass(frozen=True, slots=True)
class CloseSpec:
    """A conditional close (REST `close[ordertype]`, `close[price]`, `close[price2]`; WS
    `conditional`): placed when the parent fills, opposite side, the executed quantity."""

    ordertype: str
    price: PriceArg
    price2: PriceArg | None = None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    pair: PairSpec
    side: str  # buy | sell
    ordertype: str  # one of the ten REST order types
    volume: Decimal  # base units (quote units with the viqc flag)
    price: PriceArg | None  # limit price, or the trigger price / trailing offset
    price2: PriceArg | None = None  # the limit leg of the *-limit trigger types
    flags: frozenset[str] = frozenset()  # oflags: post, fcib, fciq, nompp, viqc
    tif: str = "GTC"  # GTC | IOC | GTD
    expire_ns: int | None = None
    start_ns: int | None = None  # scheduled start (starttm / effective_time)
    trigger: str = "last"  # last | index
    display: Decimal | None = None  # iceberg: the quantity shown in the book
    close: CloseSpec | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    validate: bool = False
    refid: str | None = None  # the parent of a conditional close

    @property
    def post_only(self) -> bool:
        return "post" in self.flags

    @property
    def fee_in_base(self) -> bool:
        return "fcib" in self.flags

    @property
    def in_quote(self) -> bool:
        return "viqc" in self.flags


@dataclass(slots=True)
class SimOrder:
    txid: str
    pair: PairSpec
    side: str
    ordertype: str
    price: Decimal | None  # the limit price in force (limit legs), None for market legs
    vol: Decimal
    userref: int | None
    cl_ord_id: str | None
    post_only: bool
    tif: str
    opentm_ns: int
    expire_ns: int | None
    seq: int
    status: str = "pending"  # pending | open | closed | canceled | expired
    vol_exec: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    hold: Decimal = ZERO  # funds held for the open remainder (quote for buys, base for sells)
    closetm_ns: int | None = None
    reason: str | None = None
    amended_ns: int | None = None
    trades: list[str] = field(default_factory=list)
    flags: frozenset[str] = frozenset()
    trigger_ref: str = "last"  # what a trigger order watches
    price_arg: PriceArg | None = None  # the price as requested (trailing: the offset)
    price2_arg: PriceArg | None = None
    stop: Decimal | None = None  # the trigger price in force
    peak: Decimal | None = None  # trailing: the best reference price since placement
    limit: Decimal | None = None  # *-limit: the limit once known
    triggered_ns: int | None = None
    display: Decimal | None = None  # iceberg
    shown: Decimal = ZERO  # what is in the public book now
    on_book: bool = False
    start_ns: int | None = None
    close: CloseSpec | None = None
    close_text: str = ""
    refid: str | None = None
    misc: set[str] = field(default_factory=set)
    quote_volume: Decimal | None = None  # viqc: the order's size in quote currency
    owner: str = ""  # the API key that placed it; "" = the account (control, timers)

    def __copy__(self) -> SimOrder:
        # copy.copy of a slots dataclass goes through __reduce_ex__ and a setattr per slot
        # from Python; every execution report snapshots its order, so this is a hot path.
        new = object.__new__(type(self))
        for name, value in zip(self.__slots__, _slot_values(self), strict=True):
            setattr(new, name, value)
        return new

    @property
    def remaining(self) -> Decimal:
        return self.vol - self.vol_exec

    @property
    def avg_price(self) -> Decimal:
        return self.cost / self.vol_exec if self.vol_exec else ZERO

    @property
    def is_open(self) -> bool:
        return self.status in ("pending", "open")

    @property
    def is_trigger(self) -> bool:
        return self.ordertype in TRIGGER_TYPES

    @property
    def waiting(self) -> bool:
        """A trigger order whose trigger has not fired yet (it is not in the book)."""
        return self.is_trigger and self.triggered_ns is None and self.is_open

    @property
    def fee_in_base(self) -> bool:
        return "fcib" in self.flags

    def oflags(self) -> str:
        """As OpenOrders prints them: the flags given, plus the fee currency Kraken uses."""
        flags: list[str] = [f for f in ("post", "viqc", "nompp") if f in self.flags]
        flags.append("fcib" if self.fee_in_base else "fciq")
        return ",".join(flags)

    def descr(self) -> str:
        """Kraken's `descr.order` text, e.g. `buy 1.45000000 XBTUSD @ limit 27500.0`,
        `sell 0.10000000 LTCUSDT @ stop loss 55.00000 -> limit 54.00000`,
        `buy 10.00000000 XRPUSD @ trailing stop +50.0000%` (API.md §5.3; ccxt fixture)."""
        if self.quote_volume is not None:
            vol = f"{self.quote_volume:.{self.pair.cost_decimals}f}"
        else:
            vol = f"{self.vol:.{self.pair.lot_decimals}f}"
        head = f"{self.side} {vol} {self.pair.altname} @ "
        if self.triggered_ns is not None and self.limit is not None:
            # A triggered stop-limit reads as the limit order it became (docs example).
            return head + f"limit {self._fmt(self.limit)}"
        return head + describe_terms(
            self.ordertype, self.price_arg, self.price2_arg, self.pair.pair_decimals
        )

    def _fmt(self, price: Decimal) -> str:
        return f"{price:.{self.pair.pair_decimals}f}"


def describe_terms(
    ordertype: str, price: PriceArg | None, price2: PriceArg | None, decimals: int
) -> str:
    """`limit 0.280000`, `stop loss 55.0 -> limit 54.0`, `trailing stop +5.0000%`, `market`."""
    words = WORDS[ordertype]
    if price is None:
        return words
    text = f"{words} {render(price, decimals)}"
    if price2 is not None and ordertype != "iceberg":
        text += f" -> limit {render(price2, decimals)}"
    return text


def close_descr(close: CloseSpec, decimals: int) -> str:
    """`descr.close`, e.g. `close position @ stop loss 22000.0 -> limit 21000.0` (docs)."""
    terms = describe_terms(close.ordertype, close.price, close.price2, decimals)
    return f"close position @ {terms}"


_slot_values = operator.attrgetter(*SimOrder.__slots__)


@dataclass(frozen=True, slots=True)
class Fill:
    txid: str  # Kraken trade id "TXXXXX-…"
    ordertxid: str
    postxid: str
    pair: PairSpec
    side: str
    ordertype: str
    price: Decimal
    vol: Decimal
    cost: Decimal
    fee: Decimal
    maker: bool
    time_ns: int
    trade_id: int  # the pair's public trade sequence number
    fee_asset: str = ""  # the quote unless the order asked for its fee in base (fcib)


@dataclass(frozen=True, slots=True)
class ExecEvent:
    """One execution report for the `executions` channel (state captured at emit time)."""

    # pending_new | new | trade | filled | canceled | expired | iceberg_refill | status
    exec_type: str
    order: SimOrder
    order_status: str
    cum_qty: Decimal
    cum_cost: Decimal
    cum_fee: Decimal
    time_ns: int
    fill: Fill | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    ledger_id: str
    ref_id: str
    time_ns: int
    asset: str
    amount: Decimal
    fee: Decimal
    balance: Decimal
    kind: str = "trade"  # the ledger `type`: trade | deposit
