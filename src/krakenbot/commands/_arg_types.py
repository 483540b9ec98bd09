"""Argument types shared by the sub-commands: checked when parsed, so a bad value is a usage
error (argparse prints the message and exits with status 2), never a traceback later.

Owns: `positive_number` (finite, greater than 0), `port` (0..65535), `balance_amount`
(a finite, non-negative Decimal of bounded size), `pair_name` (BASE/QUOTE, as ALLOWED_PAIRS
takes it) and `since_time` (`--since`: app.history.parse_since).
"""

from __future__ import annotations

import argparse
import math
from decimal import Decimal

from krakenbot.app.history import Since, parse_since
from krakenbot.config import PAIR_FORM
from krakenbot.kraken.numbers import NumberBoundError, bounded_decimal


def positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number greater than 0")
    return value


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value}: a port is 0 (any free port) to 65535")
    return value


def balance_amount(text: str) -> Decimal:
    """An amount of an asset: finite, not negative, no longer than any real balance."""
    try:
        value = bounded_decimal(text.strip())
    except NumberBoundError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite amount") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: an amount must not be negative")
    return value


def pair_name(text: str) -> str:
    """A pair as WebSocket v2 names it (`XLM/USD`; any case), upper-cased."""
    pair = text.strip().upper()
    if not PAIR_FORM.match(pair):
        raise argparse.ArgumentTypeError(f"{text!r} is not a BASE/QUOTE pair, e.g. XLM/USD")
    return pair


def since_time(text: str) -> Since:
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
