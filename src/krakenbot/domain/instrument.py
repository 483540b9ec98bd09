"""A tradable pair and its exchange constraints, with exact Decimal quantization.

Owns: `Instrument` (loaded from AssetPairs / the WS instrument channel by the codecs).
Imports: stdlib only. Quantization rounds *towards safety* by default: quantities and buy
prices round down so an order never ends up larger or more aggressive than intended.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str  # WS v2 name, e.g. "XLM/USD" (BTC, not XBT)
    rest_id: str  # REST result key, e.g. "XXLMZUSD"
    altname: str  # e.g. "XLMUSD"
    wsname: str  # v1 name from AssetPairs, e.g. "XLM/USD" / "XBT/USD"
    base: str  # normalized asset code, e.g. "XLM", "BTC"
    quote: str  # e.g. "USD"
    price_decimals: int
    lot_decimals: int
    cost_decimals: int
    tick_size: Decimal
    ordermin: Decimal  # base units
    costmin: Decimal  # quote units
    status: str = "online"
    taker_fee_pct: Decimal = Decimal("0.40")  # lowest-volume tier, percent
    maker_fee_pct: Decimal = Decimal("0.25")

    @property
    def lot_step(self) -> Decimal:
        return Decimal(1).scaleb(-self.lot_decimals)

    def quantize_qty(self, qty: Decimal, *, up: bool = False) -> Decimal:
        """Round a base quantity to the lot precision (down unless `up`)."""
        return qty.quantize(self.lot_step, rounding=ROUND_UP if up else ROUND_DOWN)

    def quantize_price(self, price: Decimal, *, up: bool = False) -> Decimal:
        """Round a price to a multiple of the tick size, shown with pair precision."""
        ticks = (price / self.tick_size).to_integral_value(rounding=ROUND_UP if up else ROUND_DOWN)
        return (ticks * self.tick_size).quantize(Decimal(1).scaleb(-self.price_decimals))

    def price_text(self, price: Decimal) -> str:
        """Fixed-precision price text as Kraken prints it (also the checksum form)."""
        return f"{price:.{self.price_decimals}f}"

    def qty_text(self, qty: Decimal) -> str:
        return f"{qty:.{self.lot_decimals}f}"

    def is_on_tick(self, price: Decimal) -> bool:
        return price > 0 and (price % self.tick_size) == 0

    def is_on_lot(self, qty: Decimal) -> bool:
        return qty > 0 and qty == self.quantize_qty(qty)

    def violation(self, price: Decimal | None, qty: Decimal) -> str | None:
        """The first exchange constraint the order breaks, in Kraken's words, or None."""
        if qty <= 0 or not self.is_on_lot(qty):
            return "EGeneral:Invalid arguments:volume"
        if qty < self.ordermin:
            return "EOrder:Order minimum not met"
        if price is not None:
            if price <= 0:
                return "EOrder:Invalid price"
            if not self.is_on_tick(price):
                return "EOrder:Tick size check failed"
            if price * qty < self.costmin:
                return "EOrder:Cost minimum not met"
        return None
