"""The simulator's market history: the bundled real day at its own timestamps (pure).

Owns: `MarketHistory` — per pair, the bundled Kraken XBT/USDT trades and 1-minute candles of
2025-11-10 (sim/data/, PROVENANCE.md) at their real timestamps, rescaled to the pair exactly
as the replay feed rescales them (`replay_scale`: the history and `run --sim`'s replay are one
price path); what the public `Trades` and `OHLC` endpoints serve from it. Imports: stdlib and
sim.* only; the data files are package data read once per pair.

How the two clocks relate: the live market (order book, WebSocket feed, the trades and candles
`run --sim` makes) runs at the simulator's clock, i.e. now. The history lies in the past, at
2025-11-10 12:17 → 2025-11-11 00:17 UTC (trades from 17:23). `Trades` pages through history
first and then into the live trades, as Kraken pages from an old cursor up to the present;
there is nothing in between. `OHLC` with a `since` inside the history answers as Kraken did
when the bundled response was captured (its 720 committed candles and the open one at 00:17);
without `since`, or after the history, it answers from the live candles. (Real Kraken serves
only the 720 most recent candles whatever `since` asks; the sim's answer for an old `since`
is the one Kraken gave at the time, so the history is reachable at all.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from functools import cache
from importlib import resources

from krakenbot.sim.market import Candle, PublicTrade, aggregate_candles
from krakenbot.sim.pairs import PairSpec
from krakenbot.sim.replay import OHLC_FILE, TRADES_FILE, load_bars, replay_scale
from krakenbot.sim.wire_rest import MAX_OHLC_COMMITTED

NS = 1_000_000_000
_SIDES = {"b": "buy", "s": "sell"}
_TYPES = {"m": "market", "l": "limit"}


@cache
def _rows(name: str) -> tuple[tuple[object, ...], ...]:
    text = resources.files("krakenbot.sim").joinpath("data", name).read_text(encoding="utf-8")
    result = json.loads(text, parse_float=Decimal)["result"]
    return tuple(tuple(r) for r in result["XBTUSDT"])


@dataclass(frozen=True, slots=True)
class PairHistory:
    trades: tuple[PublicTrade, ...]  # oldest first
    cursors: tuple[int, ...]  # each trade's paging cursor (see `with_cursors`)
    candles: tuple[Candle, ...]  # 1-minute; the last one was still open at capture time

    @property
    def end_s(self) -> int:
        """Begin of the candle that was still open when the data was captured."""
        return self.candles[-1].begin_ns // NS


def _trades(spec: PairSpec, scale: Decimal) -> tuple[PublicTrade, ...]:
    out = []
    for price, volume, time, side, ord_type, _misc, trade_id in _rows(TRADES_FILE):
        qty = (Decimal(str(volume)) / scale).quantize(spec.lot_step)
        out.append(
            PublicTrade(
                price=(Decimal(str(price)) * scale).quantize(spec.price_step),
                # Keep each trade's quote value: base volume scales inversely with price.
                qty=max(qty, spec.lot_step),
                side=_SIDES[str(side)],
                ord_type=_TYPES[str(ord_type)],
                trade_id=int(str(trade_id)),
                time_ns=int(Decimal(str(time)).scaleb(9)),
            )
        )
    return tuple(out)


def _candles(spec: PairSpec, scale: Decimal) -> tuple[Candle, ...]:
    out = []
    for time, o, h, lo, c, vwap, volume, count in _rows(OHLC_FILE):
        po, ph, pl, pc = (
            (Decimal(str(v)) * scale).quantize(spec.price_step) for v in (o, h, lo, c)
        )
        vol = (Decimal(str(volume)) / scale).quantize(spec.lot_step)
        avg = (Decimal(str(vwap)) * scale).quantize(spec.price_step, rounding=ROUND_DOWN)
        begin = int(str(time)) * NS
        out.append(Candle(begin, po, ph, pl, pc, vol, vol * avg, int(str(count))))
    return tuple(out)


def with_cursors(trades: Iterable[PublicTrade], after: int) -> list[tuple[int, PublicTrade]]:
    """Each trade with its paging cursor: its time in ns, moved up past the previous cursor
    when trades share a time (one taker order filling many makers: 171 such groups in the real
    tape). Kraken's `last` is such an id too: near the trade time, unique, increasing."""
    out = []
    prev = after
    for trade in trades:
        prev = max(trade.time_ns, prev + 1)
        out.append((prev, trade))
    return out


class MarketHistory:
    """The bundled day for every pair of the exchange, built when first asked for."""

    def __init__(self) -> None:
        self._pairs: dict[str, PairHistory] = {}

    def pair(self, spec: PairSpec) -> PairHistory:
        found = self._pairs.get(spec.symbol)
        if found is None:
            scale = replay_scale(spec, load_bars())
            trades = _trades(spec, scale)
            cursors = tuple(c for c, _ in with_cursors(trades, 0))
            found = self._pairs[spec.symbol] = PairHistory(trades, cursors, _candles(spec, scale))
        return found

    def trades_page(
        self, spec: PairSpec, live: list[PublicTrade], since_ns: int | None, count: int
    ) -> tuple[list[PublicTrade], int]:
        """`Trades`: up to `count` trades after the cursor `since_ns` (None: the most recent
        ones), history first and then `live`; and the cursor of the last one returned."""
        hist = self.pair(spec)
        merged = list(zip(hist.cursors, hist.trades, strict=True))
        merged += with_cursors(live, merged[-1][0] if merged else 0)
        if since_ns is None:
            page = merged[-count:]
        else:
            page = [m for m in merged if m[0] > since_ns][:count]
        last = page[-1][0] if page else (since_ns or 0)
        return [t for _, t in page], last

    def serves_ohlc(self, spec: PairSpec, interval: int, since_s: int | None) -> bool:
        """Whether an OHLC request with `since` is answered from the history (see module)."""
        if since_s is None:
            return False
        committed = aggregate_candles(self.pair(spec).candles, interval)[:-1]
        return bool(committed) and since_s < committed[-1].begin_ns // NS

    def ohlc(self, spec: PairSpec, interval: int) -> tuple[list[Candle], Candle]:
        """(the committed candles Kraken answered with, the open one) for `interval`."""
        candles = aggregate_candles(self.pair(spec).candles, interval)
        return candles[:-1][-MAX_OHLC_COMMITTED:], candles[-1]
