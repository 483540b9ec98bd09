"""The usual AddOrder answer read by one regular expression (pure).

Owns: `canonical_add_order`. Imports: stdlib only; no I/O.
Every REST order waits on this answer, and the generic envelope decoder (rest_codec: the JSON
scanner, the error/warning split, the envelope checks) costs several times more than one
C-level match on a reply as small and as fixed as this one. The canonical form is Kraken's
compact reply to a plain order (docs: rest/add-order; rest_addorder__docs_schema_example.json):
`{"error":[],"result":{"descr":{"order":"<text>"},"txid":["<txid>"]}}`. Anything else (an
error or a warning, a `close` in `descr`, another key, an escape in the text, another key
order, spaces) is declined here and decoded by `decode_envelope` in full; when this accepts a
body, the full decoder gives the same result (tests/property/test_rest_add_answer.py).
"""

from __future__ import annotations

import re

# The order text: any JSON string character that needs no escape (no quote, no backslash, no
# control character); bytes >= 0x80 are UTF-8, checked when the text is decoded.
_ADD_ORDER_RE = re.compile(
    rb'\{"error":\[\],"result":\{"descr":\{"order":"([^"\\\x00-\x1f]{0,1000}+)"\},'
    rb'"txid":\["([A-Za-z0-9-]{1,64}+)"\]\}\}'
)
_match = _ADD_ORDER_RE.fullmatch


def canonical_add_order(raw: bytes | str) -> tuple[str, str] | None:
    """(order text, txid) of a canonical AddOrder answer; None for any other body."""
    if type(raw) is not bytes:
        return None
    m = _match(raw)
    if m is None:
        return None
    text, txid = m.groups()
    try:
        return text.decode("utf-8"), txid.decode("ascii")
    except UnicodeDecodeError:
        return None
