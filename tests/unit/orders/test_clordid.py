from __future__ import annotations

import random

import pytest

from krakenbot.orders.clordid import is_ours, is_valid_cl_ord_id, new_cl_ord_id

NOW = 1_763_776_000_123_456_789


def test_generated_ids_are_valid_ours_and_unique() -> None:
    rng = random.Random(7)
    ids = {new_cl_ord_id(NOW, rng) for _ in range(2000)}
    assert len(ids) == 2000
    for cl in ids:
        assert len(cl) == 18 and cl.isascii()
        assert is_valid_cl_ord_id(cl)
        assert is_ours(cl)
        assert not is_ours(cl, prefix="zz")


def test_ids_sort_by_time() -> None:
    rng = random.Random(1)
    earlier = new_cl_ord_id(NOW, rng)
    later = new_cl_ord_id(NOW + 1_000_000, rng)
    assert earlier[:11] < later[:11]


def test_custom_prefix_and_bad_inputs() -> None:
    cl = new_cl_ord_id(NOW, random.Random(0), prefix="zz")
    assert cl.startswith("zz") and is_ours(cl, prefix="zz")
    with pytest.raises(ValueError, match="prefix"):
        new_cl_ord_id(NOW, random.Random(0), prefix="KB")
    with pytest.raises(ValueError, match="negative"):
        new_cl_ord_id(-1, random.Random(0))


@pytest.mark.parametrize(
    ("candidate", "ours"),
    [(None, False), ("kb123", False), ("kbABCDEFGHIJKLMNOP", False), ("xx0000000000000000", False)],
)
def test_is_ours_rejects_foreign_ids(candidate: str | None, ours: bool) -> None:
    assert is_ours(candidate) is ours


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("d15708c1-dbb6-465d-b77d-47258319cc90", True),  # long UUID (docs example)
        ("d15708c1dbb6465db77d47258319cc90", True),  # short UUID
        ("3178d58d4d000200", True),  # free text seen in a real ack
        ("a" * 18, True),
        ("a" * 19, False),
        ("", False),
        ("has space", False),
        ("caf\u00e9", False),
        ("g15708c1dbb6465db77d47258319cc90", False),  # 32 chars but not hex
    ],
)
def test_kraken_cl_ord_id_formats(candidate: str, valid: bool) -> None:
    assert is_valid_cl_ord_id(candidate) is valid
