from decimal import Decimal as D

from tests.instruments import BTC, XLM


def test_quantize_rounds_towards_safety() -> None:
    assert XLM.quantize_qty(D("34.123456789")) == D("34.12345678")
    assert XLM.quantize_qty(D("34.123456781"), up=True) == D("34.12345679")
    assert XLM.quantize_price(D("0.2912349")) == D("0.291234")
    assert XLM.quantize_price(D("0.2912341"), up=True) == D("0.291235")
    assert BTC.quantize_price(D("45285.27")) == D("45285.2")


def test_text_carries_full_precision() -> None:
    assert XLM.price_text(D("0.29")) == "0.290000"
    assert BTC.qty_text(D("0.001")) == "0.00100000"


def test_violations_in_kraken_words() -> None:
    assert XLM.violation(D("0.29"), D("34.48")) is None
    assert XLM.violation(D("0.29"), D("5")) == "EOrder:Order minimum not met"
    assert XLM.violation(D("0.2900001"), D("34")) == "EOrder:Tick size check failed"
    assert BTC.violation(D("1000.0"), D("0.0001")) == "EOrder:Cost minimum not met"
    assert XLM.violation(D("0.29"), D("34.123456789")) == "EGeneral:Invalid arguments:volume"
    assert XLM.violation(D("0"), D("34")) == "EOrder:Invalid price"
    assert XLM.violation(None, D("0")) == "EGeneral:Invalid arguments:volume"
