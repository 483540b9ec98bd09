"""Book CRC32 checksum against Kraken's documented and real vectors."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from tests.conftest import DATA

from krakenbot.kraken.checksum import book_checksum, fixed_text, level_fragment, number_fragment

VECTORS = json.loads((DATA / "ws" / "book_checksum.json").read_text())["vectors"]


def _pairs(levels: list[dict[str, str]], pdec: int, qdec: int) -> list[tuple[str, str]]:
    return [(fixed_text(lv["price"], pdec), fixed_text(lv["qty"], qdec)) for lv in levels]


@pytest.mark.parametrize("vector", [v for v in VECTORS if "asks" in v], ids=lambda v: v["name"])
def test_snapshot_vectors_reproduce(vector: dict) -> None:
    asks = _pairs(vector["asks"], vector["price_decimals"], vector["qty_decimals"])
    bids = _pairs(vector["bids"], vector["price_decimals"], vector["qty_decimals"])
    assert book_checksum(asks, bids) == vector["expected_checksum"]
    if "expected_asks_string" in vector:
        assert "".join(level_fragment(p, q) for p, q in asks) == vector["expected_asks_string"]
        assert "".join(level_fragment(p, q) for p, q in bids) == vector["expected_bids_string"]


def test_docs_btcusd_worked_example() -> None:
    vector = VECTORS[0]
    assert vector["expected_checksum"] == 3310070434
    asks = [(lv["price"], lv["qty"]) for lv in vector["asks"]]
    bids = [(lv["price"], lv["qty"]) for lv in vector["bids"]]
    assert book_checksum(asks, bids) == 3310070434


def test_lost_trailing_zeros_break_the_checksum() -> None:
    # The docs MATIC example as printed (zeros dropped) must NOT verify: text matters.
    vector = next(v for v in VECTORS if v["name"].startswith("kraken_docs_maticusd_book_channel_s"))
    asks = [(lv["price"], lv["qty"]) for lv in vector["asks"]]
    bids = [(lv["price"], lv["qty"]) for lv in vector["bids"]]
    assert book_checksum(asks, bids) != vector["expected_checksum"]


def test_only_top_ten_levels_count() -> None:
    asks = [(f"{100 + i}.0", "1.00000000") for i in range(15)]
    bids = [(f"{99 - i}.0", "1.00000000") for i in range(15)]
    assert book_checksum(asks, bids) == book_checksum(asks[:10], bids[:10])
    assert book_checksum(asks, bids) != book_checksum(asks[:9], bids[:10])


def test_number_fragment_strips_point_then_leading_zeros() -> None:
    assert number_fragment("0.00100000") == "100000"
    assert number_fragment("45285.2") == "452852"
    assert number_fragment("0.5660") == "5660"


def test_fixed_text_pads_but_never_rounds() -> None:
    assert fixed_text("0.566", 4) == "0.5660"
    assert fixed_text("1e-05", 8) == "0.00001000"
    assert fixed_text("4.0", 8) == "4.00000000"
    with pytest.raises(ValueError):
        fixed_text("0.56601", 4)
    assert Decimal(fixed_text("29430.2", 1)) == Decimal("29430.2")
