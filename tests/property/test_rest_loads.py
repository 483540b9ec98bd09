"""`rest_values.loads` calls the JSON scanner directly (no `decode` wrapper): for any text it
returns exactly what the decoder's own `decode` returns, and refuses exactly what it refuses."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from krakenbot.kraken.numbers import bounded_decimal, bounded_int
from krakenbot.kraken.rest_values import CodecError, loads

REFERENCE = json.JSONDecoder(parse_float=bounded_decimal, parse_int=bounded_int)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str).map(Decimal)
    | st.text(max_size=8)
)
_docs = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
_space = st.sampled_from(["", " ", "\n", "\t\r\n ", "\u00a0", "x", "{}", "]"])


def _reference(text: str) -> tuple[str, Any]:
    try:
        return "ok", REFERENCE.decode(text)
    except (ValueError, RecursionError) as exc:
        return "refused", type(exc).__name__


def _ours(text: str) -> tuple[str, Any]:
    try:
        return "ok", loads(text)
    except CodecError as exc:
        assert exc.__cause__ is not None
        return "refused", type(exc.__cause__).__name__


@given(_docs, _space, _space)
def test_loads_is_the_decoders_decode(doc: Any, before: str, after: str) -> None:
    text = before + json.dumps(doc, cls=_DecimalAsNumber) + after
    assert _ours(text) == _reference(text)
    assert _ours(text.encode("utf-8")) == _reference(text)


@given(st.text(alphabet='{}[]",:0123456789.eE-+ tnrufals\\\n', max_size=30))
def test_loads_refuses_what_the_decoder_refuses(text: str) -> None:
    assert _ours(text) == _reference(text)


class _DecimalAsNumber(json.JSONEncoder):
    def encode(self, o: Any) -> str:
        return _render(o)


def _render(o: Any) -> str:
    if isinstance(o, Decimal):
        return str(o) if "E" not in str(o) else format(o, "f")
    if isinstance(o, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_render(v)}" for k, v in o.items()) + "}"
    if isinstance(o, list):
        return "[" + ",".join(_render(v) for v in o) + "]"
    return json.dumps(o)
