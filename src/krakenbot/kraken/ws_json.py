"""Kraken WebSocket v2 frames parsed as JSON, exactly and bounded (pure).

Owns: `loads(text)` and `BOOK_PREFIX`. Two decoders, chosen by a cheap prefix test: book
frames keep every number as its exact wire text (the CRC32 checksum is computed over the
printed digits, and most levels never need a Decimal); every other frame gets Decimals built
as the C scanner meets each number. Both bound every number's size first (kraken.numbers):
`1e999999999` would otherwise cost a gigabyte as text. Non-finite constants are refused.
Imports: stdlib, kraken.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable
from typing import Any, NoReturn

from krakenbot.kraken.numbers import bounded_decimal, bounded_int, bounded_number_text
from krakenbot.kraken.ws_scalars import MalformedError

_Scanner = Callable[[str, int], tuple[Any, int]]


def _reject_constant(name: str) -> NoReturn:
    raise MalformedError(f"non-finite number {name}")


# Two decoders, chosen by a cheap prefix test. Book frames keep every number as its exact
# text: the checksum is computed over the printed digits and most levels never need a
# Decimal. Every other frame gets Decimals built as the C scanner meets each number. Both
# are exact, and both bound every number's size first (the canonical book and ticker frames,
# by far the most frequent, never get here: ws_fast's patterns bound their digits).
_TEXT_DECODER = json.JSONDecoder(
    parse_float=bounded_number_text, parse_int=bounded_int, parse_constant=_reject_constant
)
_DEC_DECODER = json.JSONDecoder(
    parse_float=bounded_decimal, parse_int=bounded_int, parse_constant=_reject_constant
)
_TEXT_SCAN: _Scanner = json.scanner.make_scanner(_TEXT_DECODER)  # type: ignore[arg-type]
_DEC_SCAN: _Scanner = json.scanner.make_scanner(_DEC_DECODER)  # type: ignore[arg-type]
BOOK_PREFIX = '{"channel":"book"'


def loads(text: str) -> Any:
    # JSONDecoder.decode runs two whitespace regexes around the C scanner; Kraken frames have
    # no surrounding whitespace, so try the scanner alone and fall back only when needed.
    if text.startswith(BOOK_PREFIX):
        scan, decoder = _TEXT_SCAN, _TEXT_DECODER
    else:
        scan, decoder = _DEC_SCAN, _DEC_DECODER
    try:
        obj, end = scan(text, 0)
    except StopIteration:
        return decoder.decode(text)  # raises the proper JSONDecodeError
    if end != len(text):
        return decoder.decode(text)  # trailing whitespace (fine) or garbage (error)
    return obj
