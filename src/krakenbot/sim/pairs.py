"""Pair and asset facts the simulated exchange serves (configuration, not constants).

Owns: `AssetSpec`, `PairSpec`, the default table of assets and pairs, and lookups by every
name Kraken accepts (REST id, altname, v1 wsname, v2 symbol). Imports: stdlib and
krakenbot.domain only. Values follow ../shared/kraken/API.md §6 and the recorded AssetPairs
payloads; the fee schedule (domain/fees.py) is the 2025 one seen in a real XBTUSDT capture
(taker 0.40 / maker 0.25 at volume 0). XLM/USD tick, costmin and cost_decimals are
unrecorded: API.md's suggested defaults are used and every field can be overridden through
`SimConfig.pair_overrides`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

from krakenbot.domain.fees import MAKER_FEES, TAKER_FEES
from krakenbot.domain.instrument import Instrument

D = Decimal


@dataclass(frozen=True, slots=True)
class AssetSpec:
    code: str  # WS v2 / normalized code, e.g. "BTC"
    legacy: str  # REST code, e.g. "XXBT"
    decimals: int  # ledger precision (Assets `decimals`)
    display_decimals: int
    # Assets `collateral_value`: 1 for XXBT, ZEUR and ZUSD in Kraken's docs example; None
    # (the field left out) where no source gives the value.
    collateral_value: int | None = None

    @property
    def step(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)


ASSETS: dict[str, AssetSpec] = {
    a.code: a
    for a in (
        AssetSpec("USD", "ZUSD", 4, 2, 1),
        AssetSpec("EUR", "ZEUR", 4, 2, 1),
        AssetSpec("BTC", "XXBT", 10, 5, 1),
        AssetSpec("ETH", "XETH", 10, 5),
        AssetSpec("XLM", "XXLM", 8, 5),
        AssetSpec("SOL", "SOL", 10, 5),
        AssetSpec("XRP", "XXRP", 8, 5),
    )
}
LEGACY_TO_CODE: dict[str, str] = {a.legacy: a.code for a in ASSETS.values()}
# Kraken spells Bitcoin XBT in REST altnames and v1 names.
_ALIASES = {"XBT": "BTC", "XXBT": "BTC", "ZUSD": "USD", "ZEUR": "EUR", "XXLM": "XLM"}


def normalize_asset(name: str) -> str | None:
    """The v2 code for any spelling Kraken accepts (BTC, XBT, XXBT), or None."""
    upper = name.upper()
    if upper in ASSETS:
        return upper
    code = _ALIASES.get(upper) or LEGACY_TO_CODE.get(upper)
    return code


@dataclass(frozen=True, slots=True)
class PairSpec:
    symbol: str  # WS v2 name "BTC/USD"
    rest_id: str  # "XXBTZUSD"
    altname: str  # "XBTUSD"
    wsname: str  # v1 name "XBT/USD"
    base: str  # v2 asset code
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    tick_size: Decimal
    ordermin: Decimal
    costmin: Decimal
    start_price: Decimal  # where the random walk starts / replay is rescaled to
    leverage: tuple[int, ...] = ()
    long_position_limit: int = 0
    short_position_limit: int = 0
    status: str = "online"
    taker_fees: tuple[tuple[int, Decimal], ...] = TAKER_FEES
    maker_fees: tuple[tuple[int, Decimal], ...] = MAKER_FEES
    aliases: tuple[str, ...] = field(default=())

    @property
    def price_step(self) -> Decimal:
        return Decimal(1).scaleb(-self.pair_decimals)

    @property
    def lot_step(self) -> Decimal:
        return Decimal(1).scaleb(-self.lot_decimals)

    @property
    def taker_pct(self) -> Decimal:
        return self.taker_fees[0][1]

    @property
    def maker_pct(self) -> Decimal:
        return self.maker_fees[0][1]

    def instrument(self) -> Instrument:
        return Instrument(
            symbol=self.symbol,
            rest_id=self.rest_id,
            altname=self.altname,
            wsname=self.wsname,
            base=self.base,
            quote=self.quote,
            price_decimals=self.pair_decimals,
            lot_decimals=self.lot_decimals,
            cost_decimals=self.cost_decimals,
            tick_size=self.tick_size,
            ordermin=self.ordermin,
            costmin=self.costmin,
            status=self.status,
            taker_fee_pct=self.taker_pct,
            maker_fee_pct=self.maker_pct,
        )

    def names(self) -> tuple[str, ...]:
        """Every name a request may use for this pair (Kraken accepts id, altname, wsname)."""
        return (self.rest_id, self.altname, self.wsname, self.symbol, *self.aliases)


DEFAULT_PAIRS: dict[str, PairSpec] = {
    p.symbol: p
    for p in (
        PairSpec(
            "BTC/USD",
            "XXBTZUSD",
            "XBTUSD",
            "XBT/USD",
            "BTC",
            "USD",
            1,
            8,
            5,
            D("0.1"),
            D("0.0001"),
            D("0.5"),
            D("106000.0"),
            (2, 3, 4, 5),
            250,
            200,
        ),
        PairSpec(
            "XLM/USD",
            "XXLMZUSD",
            "XLMUSD",
            "XLM/USD",
            "XLM",
            "USD",
            6,
            8,
            5,
            D("0.000001"),
            D("10"),
            D("0.5"),
            D("0.290000"),
            (2,),
            0,
            0,
        ),
        PairSpec(
            "ETH/USD",
            "XETHZUSD",
            "ETHUSD",
            "ETH/USD",
            "ETH",
            "USD",
            2,
            8,
            5,
            D("0.01"),
            D("0.002"),
            D("0.5"),
            D("3600.00"),
            (2, 3, 4, 5),
            1100,
            400,
        ),
        PairSpec(
            "SOL/USD",
            "SOLUSD",
            "SOLUSD",
            "SOL/USD",
            "SOL",
            "USD",
            2,
            8,
            5,
            D("0.01"),
            D("0.02"),
            D("0.5"),
            D("160.00"),
            (2, 3),
            0,
            0,
        ),
        PairSpec(
            "ETH/BTC",
            "XETHXXBT",
            "ETHXBT",
            "ETH/XBT",
            "ETH",
            "BTC",
            5,
            8,
            6,
            D("0.00001"),
            D("0.002"),
            D("0.00002"),
            D("0.03400"),
            (2, 3, 4, 5),
            1100,
            400,
        ),
    )
}


def make_pairs(
    symbols: tuple[str, ...], overrides: dict[str, dict[str, object]] | None = None
) -> dict[str, PairSpec]:
    """The pair table for `symbols` (v2 names), each with its configured overrides applied."""
    table: dict[str, PairSpec] = {}
    for sym in symbols:
        spec = DEFAULT_PAIRS.get(sym)
        if spec is None:
            raise ValueError(f"unknown pair {sym!r}; known: {sorted(DEFAULT_PAIRS)}")
        if overrides and sym in overrides:
            spec = replace(spec, **overrides[sym])  # type: ignore[arg-type]
        table[sym] = spec
    return table


class PairIndex:
    """Resolves any accepted spelling of a pair name to its spec."""

    def __init__(self, pairs: dict[str, PairSpec]) -> None:
        self.by_symbol = dict(pairs)
        self._by_name: dict[str, PairSpec] = {}
        for spec in pairs.values():
            for name in spec.names():
                self._by_name[name.upper()] = spec

    def resolve(self, name: str) -> PairSpec | None:
        return self._by_name.get(name.strip().upper())

    def __iter__(self) -> Iterator[PairSpec]:
        return iter(self.by_symbol.values())
