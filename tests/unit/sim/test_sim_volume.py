"""The 30-day volume tally, its USD valuation and the fee tier it reaches (sim/volume.py),
and TradeVolume's per-pair fee info against Kraken's documented example."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from krakenbot.domain.fees import MAKER_FEES, TAKER_FEES
from krakenbot.sim.trade_volume import fee_info
from krakenbot.sim.volume import MINUTE_NS, WINDOW_NS, VolumeTally, fee_pct, tier_of, usd_value

DOCS = Path(__file__).resolve().parents[2] / "data/sim/real_messages/rest_tradevolume__docs.json"
T0 = 1_700_000_000 * 1_000_000_000


@dataclass
class _Market:
    last_price: Decimal


def test_tally_counts_the_last_thirty_days_only() -> None:
    tally = VolumeTally()
    tally.add(T0, Decimal("6000"))
    tally.add(T0 + 1, Decimal("5000"))  # same minute: one bucket
    tally.add(T0 + MINUTE_NS, Decimal("1"))
    assert tally.total(T0 + MINUTE_NS) == Decimal("11001")
    assert tally.total(T0 + WINDOW_NS - MINUTE_NS) == Decimal("11001")
    assert tally.total(T0 + WINDOW_NS + 1) == Decimal("1")
    assert tally.total(T0 + WINDOW_NS + 2 * MINUTE_NS) == Decimal(0)


def test_usd_value_through_the_quote_usd_market() -> None:
    markets = {"BTC/USD": _Market(Decimal("100000"))}
    assert usd_value("USD", Decimal("12.5"), markets) == Decimal("12.5")
    assert usd_value("BTC", Decimal("0.01"), markets) == Decimal("1000.00")
    assert usd_value("EUR", Decimal("10"), markets) == Decimal(0)


def test_tiers_by_volume() -> None:
    assert tier_of(TAKER_FEES, Decimal(0)) == 0
    assert fee_pct(TAKER_FEES, Decimal("9999.99")) == Decimal("0.4")
    assert fee_pct(TAKER_FEES, Decimal("10000")) == Decimal("0.35")
    assert fee_pct(MAKER_FEES, Decimal("10000")) == Decimal("0.2")
    assert tier_of(TAKER_FEES, Decimal("1e9")) == len(TAKER_FEES) - 1


def test_fee_info_matches_the_documented_example() -> None:
    docs = json.loads(DOCS.read_text(encoding="utf-8"))["result"]
    volume = Decimal(docs["volume"])
    taker = fee_info(TAKER_FEES, volume)
    maker = fee_info(MAKER_FEES, volume)
    # Same keys, values and nulls at the top tier; only `maxfee` differs (the example is of
    # the older 0.26 % / 0.16 % schedule).
    for ours, theirs, maxfee in (
        (taker, docs["fees"]["XXBTZUSD"], "0.4000"),
        (maker, docs["fees_maker"]["XXBTZUSD"], "0.2500"),
    ):
        assert ours == {**theirs, "maxfee": maxfee}
    low = fee_info(TAKER_FEES, Decimal("12000"))
    assert low == {
        "fee": "0.3500",
        "minfee": "0.1000",
        "maxfee": "0.4000",
        "nextfee": "0.2400",
        "nextvolume": "50000.0000",
        "tiervolume": "10000.0000",
    }
