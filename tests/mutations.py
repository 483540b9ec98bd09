"""Test helper: hostile mutations of real recorded JSON payloads, as hypothesis strategies.

`mutated(texts)` draws one recorded payload and applies one to three mutations
(`mutations_of(text)` mutates a given one): a number
replaced by a hostile one (huge exponent, thousands of digits, a negative zero, a 33-bit
checksum, ...), quoted or bare; a string replaced (number-like text, a lone surrogate escape,
a long string); a value replaced by a deeply nested structure or another JSON type; a slice
deleted, duplicated or truncated; random characters inserted. Every hostile value is small
on the wire: the decoders must stay small and fast on it too.

`time_bound(seconds)` is the per-input time limit: the CPU time one call may take.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from benchmarks.chaos.mutate import (
    HOSTILE_NUMBERS,
    HOSTILE_STRINGS,
    HOSTILE_VALUES,
    NUMBER,
    STRING,
    VALUE,
)
from hypothesis import strategies as st


def _replace_one(
    draw: st.DrawFn, text: str, pattern: re.Pattern[str], choices: Sequence[str]
) -> str:
    spots = [m.span() for m in pattern.finditer(text)]
    if not spots:
        return text
    start, end = draw(st.sampled_from(spots))
    return text[:start] + draw(st.sampled_from(choices)) + text[end:]


@st.composite
def _mutate(draw: st.DrawFn, text: str) -> str:
    kind = draw(
        st.sampled_from(
            ("number", "quoted", "string", "value", "delete", "duplicate", "cut", "insert")
        )
    )
    if kind == "number":
        return _replace_one(draw, text, NUMBER, HOSTILE_NUMBERS)
    if kind == "quoted":
        return _replace_one(draw, text, NUMBER, [f'"{n}"' for n in HOSTILE_NUMBERS])
    if kind == "string":
        return _replace_one(draw, text, STRING, [f'"{s}"' for s in HOSTILE_STRINGS])
    if kind == "value":
        return _replace_one(draw, text, VALUE, HOSTILE_VALUES)
    if not text:
        return text
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start, min(len(text), start + 40)))
    if kind == "delete":
        return text[:start] + text[end:]
    if kind == "duplicate":
        return text[:end] + text[start:end] + text[end:]
    if kind == "cut":
        return text[:start]
    noise = draw(st.text(alphabet='{}[]",:0123456789.eE-+\\ux', min_size=1, max_size=8))
    return text[:start] + noise + text[start:]


@st.composite
def mutations_of(draw: st.DrawFn, text: str) -> str:
    """`text` with one to three hostile mutations."""
    for _ in range(draw(st.integers(1, 3))):
        text = draw(_mutate(text))
    return text


def mutated(texts: Sequence[str]) -> st.SearchStrategy[str]:
    """One recorded payload with one to three hostile mutations."""
    return st.sampled_from(texts).flatmap(mutations_of)


@contextmanager
def time_bound(seconds: float, what: Callable[[], str]) -> Iterator[None]:
    """Fail when the block uses more than `seconds` of CPU time (not wall time: other
    processes on a shared machine must not fail it). The garbage collector is paused
    meanwhile: a full collection of the test run's own heap is not the input's cost."""
    collecting = gc.isenabled()
    gc.disable()
    start = time.process_time()
    try:
        yield
    finally:
        used = time.process_time() - start
        if collecting:
            gc.enable()
    assert used <= seconds, f"{used:.2f} s of CPU for one input: {what()[:300]!r}"
