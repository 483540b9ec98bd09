"""Hostile mutations of recorded Kraken payloads, reproducible by index (pure).

Owns: the hostile values (numbers with huge exponents or thousands of digits, checksums past
32 bits, lone surrogates, deep nesting, other JSON types), `mutate(text, rng)` — one to three
mutations of one payload: a number, string or value replaced by a hostile one, a slice
deleted, duplicated or cut off, noise inserted, a character flipped — and `nth_input(corpus,
seed, n)`, which draws the n-th input of a run from its own seeded generator, so any input a
worker reports (or dies on) can be rebuilt from its number alone. Every hostile value is small
on the wire: a decoder must stay small and fast on it too.
The hostile values and the patterns that find numbers, strings and values are shared with
the property tests' hypothesis strategies (tests/mutations.py). Imports: stdlib only.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

HOSTILE_NUMBERS = (
    "1e999999999",  # ~1 GB as fixed-point text
    "1e99999999999999",
    "-1e99999999",
    "1E+99999999",
    "0e-99999999",  # zero, with a hundred million zeros after the point
    "1e-99999999",
    "9" * 5000,  # past int()'s 4300-digit limit
    "1" + "0" * 60,
    "0." + "0" * 80 + "1",
    "1.5e308",
    "1e309",  # float overflow
    "-0",
    "-0.0",
    "0",
    "4294967296",  # 2**32: one more than a CRC32 can be
    "18446744073709551616",  # 2**64
    "-1",
    "123456789012345678901234567890.123456789",
    "1.0000000000000000000000000000000001",
)
HOSTILE_STRINGS = (
    *HOSTILE_NUMBERS,
    "",
    "NaN",
    "Infinity",
    "-inf",
    "sNaN",
    "\\ud800",  # a lone surrogate, as a JSON escape
    "\\udfff\\ud800",
    "\\u0000",
    "x" * 10_000,
    "2023-13-45T99:99:99.999999Z",
    "1970-01-01T00:00:00.0000000001Z",
    "9999-12-31T23:59:59.999999999Z",
)
HOSTILE_VALUES = (
    "null",
    "true",
    "false",
    "[]",
    "{}",
    "NaN",
    "Infinity",
    "-Infinity",
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    "[" * 50 + "1" + "]" * 50,
    '"\\ud800"',
    '[{"price":1e999999999,"qty":1}]',
    '{"":""}',
)
_NOISE = '{}[]",:0123456789.eE-+\\ux \n'
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
VALUE = re.compile(r'(?<=:)\s*(?:"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|true|false|null)')
KINDS = ("number", "quoted", "string", "value", "delete", "duplicate", "cut", "insert", "flip")
_SEED_STRIDE = 1_000_003


def _replace_one(
    rng: random.Random, text: str, pattern: re.Pattern[str], choices: Sequence[str]
) -> str:
    spots = [m.span() for m in pattern.finditer(text)]
    if not spots:
        return text
    start, end = rng.choice(spots)
    return text[:start] + rng.choice(choices) + text[end:]


def mutate_once(text: str, rng: random.Random, kind: str) -> str:
    if kind == "number":
        return _replace_one(rng, text, NUMBER, HOSTILE_NUMBERS)
    if kind == "quoted":
        return _replace_one(rng, text, NUMBER, [f'"{n}"' for n in HOSTILE_NUMBERS])
    if kind == "string":
        return _replace_one(rng, text, STRING, [f'"{s}"' for s in HOSTILE_STRINGS])
    if kind == "value":
        return _replace_one(rng, text, VALUE, HOSTILE_VALUES)
    if not text:
        return text
    start = rng.randrange(len(text))
    end = min(len(text), start + rng.randint(0, 40))
    if kind == "delete":
        return text[:start] + text[end:]
    if kind == "duplicate":
        return text[:end] + text[start:end] + text[end:]
    if kind == "cut":
        return text[:start]
    if kind == "insert":
        noise = "".join(rng.choice(_NOISE) for _ in range(rng.randint(1, 8)))
        return text[:start] + noise + text[start:]
    if kind == "flip":
        return text[:start] + chr(rng.randrange(0x20, 0x7F)) + text[start + 1 :]
    raise ValueError(f"unknown mutation {kind!r}")


def mutate(text: str, rng: random.Random) -> str:
    """One to three mutations of `text`."""
    for _ in range(rng.randint(1, 3)):
        text = mutate_once(text, rng, rng.choice(KINDS))
    return text


def nth_input(corpus: Sequence[str], seed: int, n: int) -> tuple[int, str]:
    """The n-th input of a run seeded `seed`: (index of the payload in `corpus`, text)."""
    rng = random.Random(seed * _SEED_STRIDE + n)
    which = rng.randrange(len(corpus))
    return which, mutate(corpus[which], rng)
