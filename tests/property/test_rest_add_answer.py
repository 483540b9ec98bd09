"""The usual AddOrder answer read by one regular expression (kraken/rest_add_answer.py) gives
exactly what the full envelope decoder gives, on every body it accepts: canonical answers
(any order text, any txid), the recorded ones, and any of them with one character inserted,
deleted or replaced anywhere; and it does accept the canonical answer whenever its text
needs no escape (so the shortcut cannot quietly stop working)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from krakenbot.kraken.rest_add_answer import canonical_add_order
from krakenbot.kraken.rest_codec import Envelope, decode_envelope

REST = Path(__file__).resolve().parents[1] / "data" / "rest"
RECORDED = [
    (REST / name).read_bytes().strip()
    for name in (
        "rest_addorder__docs_schema_example.json",
        "rest_addorder_with_close__docs_example.json",
    )
]
_TXID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"
_TXID = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=24)
_ODD_TXID = st.text(min_size=0, max_size=70)
_ORDER = st.text(max_size=60) | st.sampled_from(["buy 30.00000000 XLMUSD @ limit 0.200000", ""])


def _full(raw: bytes) -> tuple[str, object]:
    try:  # any other endpoint name: the full decoder, never the shortcut
        return "ok", decode_envelope(raw, endpoint="AddOrder (full)")
    except Exception as exc:
        return "refused", type(exc).__name__


def _fast(raw: bytes) -> tuple[str, object] | None:
    usual = canonical_add_order(raw)
    if usual is None:
        return None
    return "ok", Envelope({"descr": {"order": usual[0]}, "txid": [usual[1]]})


def _answer(order: str, txid: str, ascii_only: bool) -> bytes:
    doc = {"error": [], "result": {"descr": {"order": order}, "txid": [txid]}}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=ascii_only).encode("utf-8")


def _agrees(raw: bytes) -> None:
    fast = _fast(raw)
    if fast is not None:
        assert fast == _full(raw)
    # decode_envelope for AddOrder (shortcut first) answers as the full decoder does
    through: tuple[str, object]
    try:
        through = ("ok", decode_envelope(raw, endpoint="AddOrder"))
    except Exception as exc:
        through = ("refused", type(exc).__name__)
    assert through == _full(raw)


@given(_ORDER, _TXID | _ODD_TXID, st.booleans())
def test_canonical_answers_read_as_the_full_decoder_reads_them(
    order: str, txid: str, ascii_only: bool
) -> None:
    raw = _answer(order, txid, ascii_only)
    _agrees(raw)
    plain = not any(c in order for c in '"\\') and all(ord(c) >= 0x20 for c in order)
    if plain and not ascii_only and txid and set(txid) <= set(_TXID_ALPHABET):
        assert _fast(raw) is not None  # the usual answer takes the shortcut


@given(
    st.sampled_from(RECORDED) | st.builds(_answer, _ORDER, _TXID, st.just(False)),
    st.data(),
)
def test_any_one_character_changed_reads_as_the_full_decoder_reads_it(
    base: bytes, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(base)))
    char = data.draw(
        st.sampled_from(
            [b'"', b"\\", b"\x00", b"\x1f", b" ", b"}", b"]", b",", b"x", b"\xff", b"\xc3"]
        )
    )
    kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    if kind == "insert":
        raw = base[:at] + char + base[at:]
    elif kind == "delete":
        raw = base[:at] + base[at + 1 :]
    else:
        raw = base[:at] + char + base[at + 1 :]
    _agrees(raw)


def test_the_recorded_plain_answer_takes_the_shortcut() -> None:
    plain, with_close = RECORDED
    assert canonical_add_order(plain) == ("buy 1.45 XBTUSD @ limit 27500.0", "OU22CG-KLAF2-FWUDD7")
    assert _fast(plain) == _full(plain)
    assert canonical_add_order(with_close) is None  # a `close` in descr: the full decoder
    assert canonical_add_order(plain.decode()) is None  # text, not bytes: the full decoder


def test_what_json_forbids_or_escapes_in_the_text_is_left_to_the_full_decoder() -> None:
    plain = RECORDED[0]
    at = plain.index(b"buy") + 3
    for odd in (b"\x00", b"\x01", b"\x1f", b'\\"', b"\\u0041", b"\xff"):
        raw = plain[:at] + odd + plain[at:]
        assert canonical_add_order(raw) is None
        _agrees(raw)
