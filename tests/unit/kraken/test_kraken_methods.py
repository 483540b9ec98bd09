from hypothesis import given
from hypothesis import strategies as st

from krakenbot.kraken.methods import Priority, is_public, is_read_only, priority_of, url_path
from krakenbot.kraken.ratelimit import KeyState
from krakenbot.net.nonce_store import SLOT_BYTES, decode_slot, encode_slot


def test_methods_are_classified_safely() -> None:
    assert is_public("Ticker") and url_path("Ticker") == "/0/public/Ticker"
    assert url_path("Balance") == "/0/private/Balance"
    for method in ("Balance", "OpenOrders", "ClosedOrders", "TradesHistory", "GetWebSocketsToken"):
        assert is_read_only(method)
    for method in (
        "AddOrder",
        "CancelOrder",
        "CancelAll",
        "CancelAllOrdersAfter",
        "Withdraw",
        "WalletTransfer",
        "SomethingNew",
    ):
        assert not is_read_only(method)  # unknown methods count as trading
    assert priority_of("CancelAll") < priority_of("AddOrder") < priority_of("Balance")
    assert priority_of("CancelAllOrdersAfter") is Priority.CANCEL


@given(
    st.integers(min_value=0, max_value=2**63),
    st.integers(min_value=0, max_value=2**64 - 1),
    st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.tuples(st.floats(0, 1e6), st.integers(0, 2**62)),
        max_size=20,
    ),
    st.integers(min_value=0, max_value=SLOT_BYTES - 1),
)
def test_slots_round_trip_and_any_damaged_byte_is_detected(
    seq: int, nonce: int, pairs: dict[str, tuple[float, int]], hit: int
) -> None:
    state = KeyState(nonce_high_water=nonce)
    for pair, (level, at) in pairs.items():
        state.pair(pair).level = level
        state.pair(pair).at_ns = at
    raw = encode_slot(seq, state)
    assert len(raw) == SLOT_BYTES
    decoded = decode_slot(raw)
    assert decoded is not None and decoded[0] == seq
    assert decoded[1].to_json() == state.to_json()
    damaged = bytearray(raw)
    damaged[hit] ^= 0x5A
    again = decode_slot(bytes(damaged))
    # Either the damage hit padding (same state) or the slot is rejected: never a wrong state.
    assert again is None or (again[0] == seq and again[1].to_json() == state.to_json())
