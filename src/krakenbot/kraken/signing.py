"""Kraken REST request signing (`API-Sign`) and private body encoding.

Owns: the signature algorithm and the form encoding of private request bodies.
Must not import: anything doing I/O, the clock, or other krakenbot layers.
Rule (docs: guides/spot-rest-auth):
    API-Sign = b64( HMAC-SHA512( b64decode(secret), uri_path + SHA256(nonce_text + body) ) )
where `body` is the byte-exact string sent on the wire and already contains the nonce.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import quote_plus

from krakenbot.errors import ConfigError

ParamValue = str | int | Decimal | bool

# Text made only of these needs no percent-encoding (RFC 3986 unreserved characters).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


@functools.lru_cache(maxsize=256)
def _quote_name(name: str) -> str:
    # Parameter names come from a small fixed set: each is checked once.
    if name == "nonce":
        raise ValueError("the nonce is added by the client, not passed as a parameter")
    return _quote(name)


_UNRESERVED_OR_COLON = re.compile(r"[A-Za-z0-9_.~:-]*")


def _quote(text: str) -> str:
    if text.isalnum() and text.isascii():  # the common case (names, pairs, ids), in C
        return text
    if _UNRESERVED.fullmatch(text):
        return text
    if _UNRESERVED_OR_COLON.fullmatch(text):
        return text.replace(":", "%3A")  # an RFC3339 time: what quote_plus gives, cheaper
    return quote_plus(text)


def form_value(value: ParamValue) -> str:
    """`param_text`, percent-encoded. Only text can need it: an int, a bool and a finite
    Decimal in plain notation are digits, `-`, `.` and letters, all unreserved."""
    kind = type(value)
    if kind is str:
        return _quote(value)  # type: ignore[arg-type]
    if kind is int or kind is Decimal or kind is bool:
        return param_text(value)
    return _quote(param_text(value))  # subclasses (a StrEnum's text, ...)


def _decode_secret(secret: str) -> bytes:
    try:
        key = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        # Never echo the secret itself: say only what is wrong with it.
        raise ConfigError("the API secret is not valid base64 (as Kraken issues it)") from exc
    if not key:
        raise ConfigError("the API secret is empty")
    return key


def sign(url_path: str, nonce: int, body: str, secret: str) -> str:
    """The `API-Sign` header value for `body` POSTed to `url_path` (e.g. /0/private/Balance)."""
    return Signer(secret).sign(url_path, nonce, body)


class Signer:
    """Signs requests with one API secret, decoded once; the secret never shows in a repr."""

    __slots__ = ("_mac",)

    def __init__(self, secret: str) -> None:
        # The keyed HMAC state is computed once; each request copies it (cheaper than re-keying).
        self._mac = hmac.new(_decode_secret(secret), digestmod=hashlib.sha512)

    def sign(self, url_path: str, nonce: int, body: str) -> str:
        inner = hashlib.sha256(str(nonce).encode("ascii") + body.encode("utf-8")).digest()
        mac = self._mac.copy()
        mac.update(url_path.encode("ascii") + inner)
        return base64.b64encode(mac.digest()).decode("ascii")

    def __repr__(self) -> str:
        return "Signer(<secret hidden>)"


def param_text(value: ParamValue) -> str:
    """Wire text of one parameter: Decimals in plain notation (never `1E+1`), bools lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite decimal: {value}")
        return format(value, "f")
    return str(value)


def encode_form(nonce: int, params: Mapping[str, ParamValue]) -> str:
    """The form body Kraken receives: `nonce` first, then the parameters in the given order."""
    parts = [f"nonce={nonce}"]
    for name, value in params.items():
        parts.append(f"{_quote_name(name)}={form_value(value)}")
    return "&".join(parts)


def form_body(nonce: int, fields: Mapping[str, ParamValue] | str) -> str:
    """`encode_form`, or with `fields` already encoded: the text that follows `nonce=<n>`."""
    return f"nonce={nonce}{fields}" if isinstance(fields, str) else encode_form(nonce, fields)


def encode_query(params: Mapping[str, ParamValue]) -> str:
    """Query string for public GET endpoints (no nonce)."""
    return "&".join(f"{_quote(k)}={_quote(param_text(v))}" for k, v in params.items())
