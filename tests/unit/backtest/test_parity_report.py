"""The parity replay's report data and page (backtest/charts.py, app/backtest/html.py
`render_parity`): the series sampled from the replayed engine core once a minute of market
time — each pair's price, the equity as cash plus holdings at their marks — our fills, and a
page with the verdict, one chart block and every round trip."""

from __future__ import annotations

from decimal import Decimal as D

from krakenbot.app.backtest.html import render_parity
from krakenbot.app.backtest.ledger import MemoryLedger
from krakenbot.app.backtest.run import BacktestSpec, build
from krakenbot.backtest.charts import Charts, ChartSampler
from krakenbot.domain.enums import Side
from krakenbot.domain.events import BalanceChange, BookTop, Fill, PriceLevel
from krakenbot.engine.config import EngineConfig
from krakenbot.risk.limits import RiskLimits

S = 1_000_000_000
T0 = 1_762_777_020 * S
LIMITS = RiskLimits(
    allowed_symbols=frozenset({"XLM/USD"}),
    max_trade_usd=D("10"),
    min_order_usd=D("1"),
    max_total_exposure_usd=D("10"),
    max_positions=1,
    max_daily_loss_usd=D("20"),
)


def _top(bid: str, t: int) -> BookTop:
    level = D(bid)
    return BookTop(
        "XLM/USD",
        (PriceLevel(level, D(100)),),
        (PriceLevel(level + D("0.000002"), D(100)),),
        True,
        t,
        t,
    )


def test_the_sampler_takes_prices_and_equity_once_a_minute() -> None:
    spec = BacktestSpec(
        "mean_reversion", (), ("XLM/USD",), LIMITS, EngineConfig(require_private_ws=False)
    )
    core = build(spec, T0, MemoryLedger(T0)).core
    sampler = ChartSampler(core)
    sampler.at(T0)  # no book yet: no mark, nothing to draw
    assert sampler.charts.equity == []
    core.handle(BalanceChange("XLM", D("100"), None, True, T0, T0), T0)
    for i, bid in enumerate(("0.290000", "0.291000", "0.300000")):
        t = T0 + i * 30 * S  # every 30 s: two books in a minute, one sample
        core.handle(_top(bid, t), t)
        sampler.at(t)
    times = [t for t, _ in sampler.charts.equity]
    assert times == [T0, T0 + 60 * S]
    assert sampler.charts.prices["XLM/USD"] == [(T0, D("0.290001")), (T0 + 60 * S, D("0.300001"))]
    # 1000 USD of cash and 100 XLM at the mid
    assert sampler.charts.equity[-1][1] == D(1000) + 100 * D("0.300001")


def test_a_fill_makes_the_next_input_a_sample() -> None:
    spec = BacktestSpec(
        "mean_reversion", (), ("XLM/USD",), LIMITS, EngineConfig(require_private_ws=False)
    )
    core = build(spec, T0, MemoryLedger(T0)).core
    sampler = ChartSampler(core)
    core.handle(_top("0.290000", T0), T0)
    sampler.at(T0)
    fill = Fill(
        "T1", "O1", "kb1", "XLM/USD", Side.BUY, D("0.29"), D("40"), D("11.6"), D(0), "USD", None, T0
    )
    sampler.fill(fill)
    core.handle(_top("0.295000", T0 + 10 * S), T0 + 10 * S)
    sampler.at(T0 + 10 * S)  # within the minute, but a fill came: the line passes through it
    core.handle(_top("0.296000", T0 + 20 * S), T0 + 20 * S)
    sampler.at(T0 + 20 * S)  # no fill since: the minute's rule again
    assert [t for t, _ in sampler.charts.prices["XLM/USD"]] == [T0, T0 + 10 * S]


def test_the_page_has_the_verdict_the_charts_and_the_round_trips() -> None:
    fill = Fill(
        "T1", "O1", "kb1", "XLM/USD", Side.BUY, D("0.29"), D("40"), D("11.6"), D(0), "USD", None, T0
    )
    charts = Charts(
        {"XLM/USD": [(T0, D("0.29")), (T0 + 60 * S, D("0.30"))]},
        [fill],
        [(T0, D(1000)), (T0 + 60 * S, D("1000.4"))],
    )
    trip = {
        "pair": "XLM/USD",
        "side": "long",
        "opened": "2025-11-10T12:17:00Z",
        "closed": None,
        "entry_price": "0.29",
        "exit_price": None,
        "volume": "40",
        "realized_pnl": "-0.19173845427180",
        "fees": "0.06450000",
    }
    doc = {
        "run": {
            "data": {"source": "run-recording", "path": "run.jsonl"},
            "strategies": [{"name": "mean_reversion"}],
            "started_ns": T0,
        },
        "parity": {
            "verdict": "identical",
            "orders": 1,
            "cancels_and_amends": 0,
            "exchange_answers": 2,
            "fills": 1,
            "inputs": 9,
        },
        "summary": {
            "trades": 1,
            "realized_pnl": "-0.19038833077472",
            "fees": "0.1548",
            "open_positions": {"XLM/USD": "34.52943288"},
        },
        "trades": [trip],
    }
    page = render_parity(charts, doc)
    assert "parity replay: mean_reversion" in page and "identical" in page
    assert page.count('id="charts"') == 1 and "<script" in page
    assert page.count("<tr><td class=l>XLM/USD</td>") == 1  # the round trip
    # The summary as a person reads it: rounded money, positions as text, no raw reprs.
    assert "-0.1904" in page and "-0.19038833077472" not in page
    assert "XLM/USD 34.52943288" in page and "{'XLM/USD'" not in page
    # The round trips too: money to 4 places.
    assert "-0.1917" in page and "-0.19173845427180" not in page and "0.0645<" in page
