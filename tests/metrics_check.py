"""Reading a /metrics scrape in tests: parsed with prometheus_client's own parser, and the
label rule (fixed label sets only: no order id, no secret, nothing unbounded) checked; and
`Timings`, a recorder of what a transport reports through ports.OrderTimings."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.parser import text_string_to_metric_families

from krakenbot.app.metrics import LABEL_VALUES

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample: (name, its labels) -> value."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def assert_labels_allowed(samples: Samples, pairs: Iterable[str]) -> None:
    """Each label is one the metrics module declares, with a value from its fixed set (the
    pairs: the configured ones; `le`: a histogram bound)."""
    allowed = dict(LABEL_VALUES, pair=frozenset(pairs))
    for name, labels in samples:
        for key, text in labels:
            if key == "le":
                assert text == "+Inf" or float(text) > 0, (name, text)
                continue
            assert key in allowed, f"{name}: label {key!r} is not in the allow-list"
            assert text in allowed[key], f"{name}: {key}={text!r} is not an allowed value"


class Timings:
    """A ports.OrderTimings that records each call."""

    def __init__(self) -> None:
        self.wired: list[tuple[str, int]] = []
        self.acks: list[tuple[str, float]] = []

    def on_wire(self, cl_ord_id: str, wire_ns: int) -> None:
        self.wired.append((cl_ord_id, wire_ns))

    def acked(self, transport: str, seconds: float) -> None:
        self.acks.append((transport, seconds))
