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

BTC = Instrument(  # AssetPairs XXBTZUSD (shared/kraken/vectors: rest_assetpairs_..._docs_spec)
    symbol="BTC/USD",
    rest_id="XXBTZUSD",
    altname="XBTUSD",
    wsname="XBT/USD",
    base="BTC",
    quote="USD",
    price_decimals=1,
    lot_decimals=8,
    cost_decimals=5,
    tick_size=Decimal("0.1"),
    ordermin=Decimal("0.0001"),
    costmin=Decimal("0.5"),
)


# A pair the simulator does not know (its rules as download-data records them; made-up
# minimums, not Kraken's): for backtests of downloaded pairs.
ADA = Instrument(
    symbol="ADA/USD",
    rest_id="ADAUSD",
    altname="ADAUSD",
    wsname="ADA/USD",
    base="ADA",
    quote="USD",
    price_decimals=6,
    lot_decimals=8,
    cost_decimals=5,
    tick_size=Decimal("0.000001"),
    ordermin=Decimal("5"),
    costmin=Decimal("0.5"),
)
