"""The fuzz's mutator and its verdict on what the decoders may raise (benchmarks/chaos)."""

from __future__ import annotations

import json
import random

import pytest
from benchmarks.chaos import fuzz_targets
from benchmarks.chaos.fuzz_targets import Reader, load_corpus, run_rest, run_ws
from benchmarks.chaos.mutate import KINDS, mutate, mutate_once, nth_input

CORPUS = load_corpus()


def test_the_corpus_is_the_real_recordings() -> None:
    assert len(CORPUS.ws) > 80 and len(CORPUS.rest) > 40
    endpoints = {endpoint for endpoint, _ in CORPUS.rest}
    assert set(fuzz_targets.PARSERS) <= endpoints  # every parser gets bodies
    reader = Reader()
    assert all(run_ws(frame, reader) is None for frame in CORPUS.ws)
    assert all(run_rest(body, endpoint) is None for endpoint, body in CORPUS.rest)


def test_inputs_are_rebuilt_from_their_number_alone() -> None:
    first = [nth_input(CORPUS.ws, 7, n) for n in range(200)]
    assert first == [nth_input(CORPUS.ws, 7, n) for n in range(200)]
    assert first != [nth_input(CORPUS.ws, 8, n) for n in range(200)]
    assert sum(text != CORPUS.ws[which] for which, text in first) > 150  # mutated


@pytest.mark.parametrize("kind", KINDS)
def test_every_mutation_kind_changes_real_payloads(kind: str) -> None:
    rng = random.Random(3)
    changed = sum(mutate_once(text, rng, kind) != text for text in CORPUS.ws[:40])
    assert changed >= 30


def test_mutations_stay_small_on_the_wire() -> None:
    rng = random.Random(5)
    for text in CORPUS.ws[:50]:
        assert len(mutate(text, rng)) < len(text) * 2 + 40_000


def test_an_undeclared_exception_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(result: object) -> object:
        raise KeyError("token")

    monkeypatch.setitem(fuzz_targets.PARSERS, "getwebsocketstoken", broken)
    body = '{"error":[],"result":{"token":"abc","expires":900}}'
    assert run_rest(body, "getwebsocketstoken") == (
        "parse getwebsocketstoken",
        "builtins.KeyError",
        "'token'",
    )


def test_codec_errors_and_kraken_errors_are_declared() -> None:
    assert run_rest("not json", "balance") is None  # CodecError
    assert run_rest('{"error":["EOrder:Insufficient funds"]}', "addorder") is None
    assert run_rest('{"error":[""]}', "addorder") is None  # the table's fallback: a refusal
    assert run_rest('{"error":[],"result":[1,2]}', "balance") is None  # wrong shape


def test_a_decoder_that_raises_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(frame: object, recv_ns: int = 0) -> object:
        raise MemoryError

    monkeypatch.setattr(fuzz_targets, "decode", boom)
    finding = run_ws(json.dumps({"channel": "heartbeat"}), Reader())
    assert finding is not None and finding[:2] == ("ws_codec.decode(str)", "builtins.MemoryError")
