"""Kraken's public market-history limit: the pure model, and the REST client pacing Trades/OHLC
one call per second per pair (other public calls unpaced) and backing off after a refusal."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from krakenbot.clock import ManualClock
from krakenbot.kraken.public_ratelimit import PublicRateModel, history_bucket
from krakenbot.net.http import HttpResponse
from krakenbot.net.rest_client import RestClient, RestConfig

NS = 1_000_000_000


def test_model_spaces_calls_per_bucket() -> None:
    model = PublicRateModel(per_s=1.0, burst=1.0)
    assert model.wait_s("a", 0) == 0
    model.charge("a", 0)
    assert model.wait_s("a", 0) == pytest.approx(1.0)
    assert model.wait_s("a", NS // 2) == pytest.approx(0.5)
    assert model.wait_s("b", 0) == 0  # another pair has its own budget
    model.on_limited("a", NS)
    assert model.wait_s("a", NS) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        PublicRateModel(per_s=0)


def test_buckets_are_trades_and_ohlc_per_pair() -> None:
    assert history_bucket("Trades", {"pair": "xbtusd"}) == history_bucket(
        "OHLC", {"pair": "XBTUSD"}
    )
    assert history_bucket("Trades", {"pair": "XLMUSD"}) != history_bucket(
        "Trades", {"pair": "XBTUSD"}
    )
    assert history_bucket("Ticker", {"pair": "XBTUSD"}) is None


class FakePublic:
    """A public endpoint on the HTTP seam that records when (on `clock`) each call arrived."""

    def __init__(self, clock: ManualClock, refuse_first: bool = False) -> None:
        self.clock = clock
        self.calls: list[tuple[str, str, int]] = []
        self.refuse_first = refuse_first

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> HttpResponse:
        parts = urlsplit(url)
        name = parts.path.rsplit("/", 1)[-1]
        pair = parse_qs(parts.query).get("pair", [""])[0]
        self.calls.append((name, pair, self.clock.now_ns()))
        if self.refuse_first:
            self.refuse_first = False
            return HttpResponse(200, b'{"error":["EGeneral:Too many requests"]}')
        if name == "Trades":
            result: object = {pair: [], "last": "5"}
        elif name == "OHLC":
            result = {pair: [[60, "1", "1", "1", "1", "1", "1", 1]], "last": 0}
        else:
            result = {"unixtime": 1, "rfc1123": "x"}
        return HttpResponse(200, json.dumps({"error": [], "result": result}).encode())

    async def close(self) -> None:
        return None


def _client(tmp_path: Path, fake: FakePublic, clock: ManualClock) -> RestClient:
    config = RestConfig(state_dir=tmp_path, base_url="http://127.0.0.1:1", retry_base_s=0.01)
    return RestClient(config, None, clock=clock, rng=random.Random(1), transport=fake)


async def test_history_calls_are_paced_one_per_second_per_pair(tmp_path: Path) -> None:
    clock = ManualClock()
    fake = FakePublic(clock)
    async with _client(tmp_path, fake, clock) as client:
        for _ in range(3):
            await client.recent_trades("XBTUSD", since="1")
        await client.ohlc("XBTUSD", 1, since=0)
        await client.recent_trades("XLMUSD")
        await client.server_time()
        await client.server_time()
    times: dict[tuple[str, str], list[int]] = {}
    for n, p, t in fake.calls:
        times.setdefault((n, p), []).append(t)
    xbt = sorted(times[("Trades", "XBTUSD")] + times[("OHLC", "XBTUSD")])
    assert [b - a for a, b in itertools.pairwise(xbt)] == [NS, NS, NS]
    assert times[("Trades", "XLMUSD")] == [xbt[-1]]  # XLM's budget is its own: no wait...
    assert len(set(times[("Time", "")])) == 1  # ...and Time is not paced at all


async def test_a_refusal_backs_the_pair_off(tmp_path: Path) -> None:
    clock = ManualClock()
    fake = FakePublic(clock, refuse_first=True)
    async with _client(tmp_path, fake, clock) as client:
        page = await client.recent_trades("XBTUSD", since="1")
    assert page.last == "5"
    (first, second) = [t for _, _, t in fake.calls]
    assert second - first >= 2 * NS  # a full budget, not just the usual second
