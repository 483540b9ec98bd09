"""Replay and random feeds: bundled real data, intra-candle path, same seed same market."""

from __future__ import annotations

import random
from decimal import Decimal

from krakenbot.sim.exchange import Exchange
from krakenbot.sim.feed import RandomFeed
from krakenbot.sim.pairs import make_pairs
from krakenbot.sim.ratelimit import TIERS
from krakenbot.sim.replay import (
    Bar,
    ReplayFeed,
    backfill_history,
    intra_candle,
    load_bars,
    load_trade_notionals,
    replay_scale,
)

NS = 1_000_000_000


def test_bundled_data_loads() -> None:
    bars = load_bars()
    assert len(bars) == 721 and bars[0].open > 0
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    assert len(load_trade_notionals()) == 1000


def test_intra_candle_path_visits_extremes_in_order() -> None:
    up = Bar(Decimal(10), Decimal(14), Decimal(8), Decimal(12), 5)
    assert [intra_candle(up, f) for f in (0, 1 / 3, 2 / 3, 1)] == [10, 8, 14, 12]
    down = Bar(Decimal(10), Decimal(14), Decimal(8), Decimal(9), 5)
    assert [intra_candle(down, f) for f in (0, 1 / 3, 2 / 3, 1)] == [10, 14, 8, 9]


def _exchange(seed: int) -> Exchange:
    return Exchange(
        make_pairs(("XLM/USD", "BTC/USD")), TIERS["starter"], {}, random.Random(seed), 0
    )


def _run(feed_cls: str, seed: int) -> list[tuple[Decimal, int]]:
    ex = _exchange(seed)
    rng = ex.rng
    feed = ReplayFeed(ex, rng, 0, speed=120) if feed_cls == "replay" else RandomFeed(ex, rng)
    out = []
    for i in range(1, 200):
        feed.tick(i * NS // 4)
        m = ex.markets["XLM/USD"]
        out.append((m.mid, m.trade_count))
    return out


def test_same_seed_same_market() -> None:
    for kind in ("replay", "random"):
        assert _run(kind, 7) == _run(kind, 7)
    assert _run("random", 7) != _run("random", 8)


def test_replay_tracks_the_real_path_rescaled() -> None:
    ex = _exchange(1)
    feed = ReplayFeed(ex, ex.rng, 0, speed=60)
    bars = load_bars()
    scale = Decimal("0.29") / bars[0].open
    feed.tick(30 * NS // 60)  # half of the first candle at speed 60 (1 candle per second)
    expected = (intra_candle(bars[0], 0.5) * scale).quantize(Decimal("0.000001"))
    assert ex.markets["XLM/USD"].mid == expected
    assert ex.markets["XLM/USD"].asks.best() > expected > ex.markets["XLM/USD"].bids.best()  # type: ignore[operator]


def test_history_backfill_joins_the_start_price() -> None:
    now = 1_700_000_000 * NS
    ex = Exchange(make_pairs(("XLM/USD",)), TIERS["starter"], {}, random.Random(1), now)
    backfill_history(ex, now, 240)
    candles = ex.markets["XLM/USD"].candles_for(1, now)
    assert len(candles) == 241
    assert candles[-2].close == Decimal("0.290000")
    assert [c.begin_ns for c in candles] == sorted({c.begin_ns for c in candles})


def test_each_pair_replays_its_own_stretch_of_the_real_day() -> None:
    """Two pairs are two markets: each follows its own part of the real path (and tape),
    not the same path twice; the first pair still starts at the day's start."""
    ex = _exchange(1)
    feed = ReplayFeed(ex, ex.rng, 0, speed=60)
    bars = load_bars()
    assert feed.starts == {"XLM/USD": 0, "BTC/USD": len(bars) // 2}
    moves: dict[str, list[Decimal]] = {"XLM/USD": [], "BTC/USD": []}
    for second in range(1, 61):
        feed.tick(second * NS)  # one candle per second
        for symbol, path in moves.items():
            path.append(ex.markets[symbol].mid / ex.markets[symbol].spec.start_price)
    btc = ex.markets["BTC/USD"]
    half = bars[len(bars) // 2 + 60]
    scale = replay_scale(btc.spec, bars)  # one scale per pair: history and replay agree
    assert btc.mid == (half.open * scale).quantize(btc.spec.price_step)
    assert moves["XLM/USD"] != moves["BTC/USD"]


def test_history_before_a_later_stretch_joins_its_live_start() -> None:
    now = 1_700_000_000 * NS
    ex = Exchange(make_pairs(("XLM/USD", "BTC/USD")), TIERS["starter"], {}, random.Random(1), now)
    backfill_history(ex, now, 240)
    bars = load_bars()
    xlm, btc = ex.markets["XLM/USD"], ex.markets["BTC/USD"]
    assert xlm.candles_for(1, now)[-2].close == xlm.spec.start_price
    live_start = bars[len(bars) // 2].open * replay_scale(btc.spec, bars)
    assert btc.candles_for(1, now)[-2].close == live_start.quantize(btc.spec.price_step)
    xlm_path = [c.close / xlm.spec.start_price for c in xlm.candles_for(1, now)[:-1]]
    btc_path = [c.close / btc.spec.start_price for c in btc.candles_for(1, now)[:-1]]
    assert xlm_path != btc_path
