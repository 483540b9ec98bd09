"""Values of the simulated exchange: orders, fills, order requests and emitted events.

Owns: `SimOrder` (the exchange's mutable record of one order), `Fill`, `OrderRequest` (a
validated-shape add request from REST or WS), and the events the core emits for the WS
shell (`ExecEvent`, `LedgerEvent`). Imports: stdlib and sim.pairs only.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from decimal import Decimal

from krakenbot.sim.pairs import PairSpec

ZERO = Decimal(0)
_ALPHABET = string.ascii_uppercase + string.digits


def kraken_id(rng: random.Random, prefix: str) -> str:
    """An id shaped like Kraken's txids: `OXXXXX-XXXXX-XXXXXX` (6-5-6)."""
    body = "".join(rng.choices(_ALPHABET, k=16))
    return f"{prefix}{body[:5]}-{body[5:10]}-{body[10:]}"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    pair: PairSpec
    side: str  # buy | sell
    ordertype: str  # market | limit
    volume: Decimal
    price: Decimal | None
    post_only: bool = False
    tif: str = "GTC"  # GTC | IOC | GTD
    expire_ns: int | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    validate: bool = False
    fee_in_base: bool = False


@dataclass(slots=True)
class SimOrder:
    txid: str
    pair: PairSpec
    side: str
    ordertype: str
    price: Decimal | None
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

    @property
    def remaining(self) -> Decimal:
        return self.vol - self.vol_exec

    @property
    def avg_price(self) -> Decimal:
        return self.cost / self.vol_exec if self.vol_exec else ZERO

    @property
    def is_open(self) -> bool:
        return self.status in ("pending", "open")

    def descr(self) -> str:
        """Kraken's `descr.order` text, e.g. `buy 1.45000000 XBTUSD @ limit 27500.0`."""
        vol = f"{self.vol:.{self.pair.lot_decimals}f}"
        if self.ordertype == "market":
            return f"{self.side} {vol} {self.pair.altname} @ market"
        price = f"{self.price:.{self.pair.pair_decimals}f}"
        return f"{self.side} {vol} {self.pair.altname} @ limit {price}"


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


@dataclass(frozen=True, slots=True)
class ExecEvent:
    """One execution report for the `executions` channel (state captured at emit time)."""

    exec_type: str  # pending_new | new | trade | filled | canceled | expired
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
