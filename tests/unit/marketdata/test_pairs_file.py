"""download-data's record of the pairs' rules (marketdata/pairs.py): read back exactly,
merged with the pairs recorded before, the same bytes for the same pairs, and an unreadable
file named in the error."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from tests.instruments import ADA, XLM

from krakenbot.marketdata.pairs import PAIRS_FILE, load_pairs, save_pairs
from krakenbot.marketdata.store import StoreError


def test_the_rules_come_back_exactly_and_other_pairs_are_kept(tmp_path: Path) -> None:
    assert load_pairs(tmp_path) == {}  # nothing downloaded yet
    save_pairs(tmp_path, [ADA])
    save_pairs(tmp_path, [XLM])
    assert load_pairs(tmp_path) == {"ADA/USD": ADA, "XLM/USD": XLM}
    moved = replace(ADA, ordermin=Decimal("10"))
    save_pairs(tmp_path, [moved])  # fetched again: updated
    assert load_pairs(tmp_path)["ADA/USD"].ordermin == Decimal("10")


def test_the_same_pairs_give_the_same_bytes(tmp_path: Path) -> None:
    save_pairs(tmp_path / "a", [XLM, ADA])
    save_pairs(tmp_path / "b", [ADA, XLM])
    save_pairs(tmp_path / "b", [XLM])
    assert (tmp_path / "a" / PAIRS_FILE).read_bytes() == (tmp_path / "b" / PAIRS_FILE).read_bytes()


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"format": 1}',
        '{"format": 1, "pairs": {"ADA/USD": {"symbol": "ADA/USD"}}}',
        '{"format": 1, "pairs": []}',
    ],
)
def test_an_unreadable_file_is_named(tmp_path: Path, text: str) -> None:
    (tmp_path / PAIRS_FILE).write_text(text)
    with pytest.raises(StoreError, match=PAIRS_FILE):
        load_pairs(tmp_path)


def test_bad_rules_are_refused(tmp_path: Path) -> None:
    save_pairs(tmp_path, [ADA])
    path = tmp_path / PAIRS_FILE
    path.write_text(path.read_text().replace('"0.000001"', '"0"'))  # a tick size of zero
    with pytest.raises(StoreError, match="tick size"):
        load_pairs(tmp_path)
