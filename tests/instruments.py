"""Instruments shared by the tests: the real Kraken XLM/USD pair (AssetPairs facts, API.md)."""

from __future__ import annotations

from decimal import Decimal

from krakenbot.domain.instrument import Instrument

XLM = Instrument(
    symbol="XLM/USD",
    rest_id="XXLMZUSD",
    altname="XLMUSD",
    wsname="XLM/USD",
    base="XLM",
    quote="USD",
    price_decimals=6,
    lot_decimals=8,
    cost_decimals=5,
    tick_size=Decimal("0.000001"),
    ordermin=Decimal("10"),
    costmin=Decimal("0.5"),
)
