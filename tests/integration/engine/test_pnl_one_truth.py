"""One truth for positions and PnL (issue 14): for the same ledger, a running daemon's
`GET /health` and a stopped daemon's `status` (read from the ledger) report the same
positions, realized, unrealized and daily PnL, and fees — with fees charged in the quote
currency and in the base asset, partial closes and several round trips.

The daemon is the real one (real stack in paper mode on the simulator's market data, real
health server, real final snapshot); `status` is `collect_status`, as the CLI runs it."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from pathlib import Path

from enginetest_helpers import XLM, Scripted, fast_tuning, ledger, settings_for, sim_for_engine
from tests.eventually import eventually

from krakenbot.app.exitcodes import StatusExit
from krakenbot.app.health_server import HealthServer
from krakenbot.app.status_check import collect_status, fetch_health
from krakenbot.app.status_model import StatusReport, amount_text
from krakenbot.app.supervisor import Daemon, DaemonConfig
from krakenbot.app.trading_stack import Endpoints, open_stack
from krakenbot.clock import SystemClock
from krakenbot.domain.enums import Liquidity, Side
from krakenbot.domain.events import Fill
from krakenbot.store.repository import LedgerRepository

D = Decimal
HOUR = 3_600_000_000_000
PNL_FIELDS = ("position", "total_pnl", "unrealized_pnl", "daily_pnl", "fees", "other_fees")


def _fill(trade_id: str, side: Side, qty: str, price: str, fee: str, asset: str, at: int) -> Fill:
    q, p = D(qty), D(price)
    return Fill(trade_id, f"O{trade_id}", None, XLM, side, p, q, q * p, D(fee), asset,
                Liquidity.MAKER, at)  # fmt: skip


async def _a_ledger_with_history(repo: LedgerRepository, now: int) -> None:
    yesterday = now - 26 * HOUR
    for fill in (
        # round trip 1, closed: a base-asset fee on the first partial close, yesterday
        _fill("T1", Side.BUY, "40", "0.25", "0.01", "USD", yesterday),
        _fill("T2", Side.SELL, "15", "0.27", "0.1", "XLM", yesterday + 1),  # fcib
        _fill("T3", Side.SELL, "24.9", "0.26", "0.0065", "USD", now - HOUR),
        # round trip 2, still open after a partial close; a fee in base on the entry
        _fill("T4", Side.BUY, "30", "0.28", "0.2", "XLM", now - HOUR + 1),  # fcib
        _fill("T5", Side.SELL, "10", "0.30", "0.003", "ZUSD", now - HOUR + 2),
    ):
        assert await repo.insert_fill(fill)


def _pnl(report: StatusReport) -> dict[str, object]:
    values = {name: getattr(report, name) for name in PNL_FIELDS}
    for name in ("total_pnl", "unrealized_pnl", "daily_pnl", "fees"):
        text = values[name]
        values[name] = None if text is None else D(str(text))
    values["position"] = {s: D(q) for s, q in report.position.items()}
    return values


async def test_running_health_and_stopped_status_report_the_same_pnl(tmp_path: Path) -> None:
    clock = SystemClock()
    settings = settings_for(tmp_path, lock_file=tmp_path / ".trading_lock")
    async with sim_for_engine() as sim, ledger(tmp_path) as repo:
        await _a_ledger_with_history(repo, clock.now_ns())
        endpoints = Endpoints(sim.rest_url, sim.ws_url, sim.ws_auth_url)
        async with open_stack(
            settings,
            live=False,
            endpoints=endpoints,
            credentials=None,
            repo=repo,
            clock=clock,
            rng=random.Random(3),
            strategy=Scripted(),  # places nothing
            tuning=fast_tuning(),
        ) as stack:
            daemon = Daemon(
                config=DaemonConfig(mode="paper", live_path=False, shutdown_timeout_s=5.0),
                stack=stack,
                repo=repo,
                clock=clock,
                dms=None,
                started_ns=clock.now_ns(),
                data_files={"database": str(settings.database_path)},
            )
            server = HealthServer(
                host="127.0.0.1",
                port=0,
                report=daemon.report,
                request_stop=daemon.request_stop,
                token="t",
            )
            await server.start()
            daemon.add_job("health server", server.serve_until)
            running = asyncio.create_task(daemon.run())

            async def priced() -> dict[str, object] | None:
                doc = await fetch_health(server.url, 5.0)
                return doc if doc.get("unrealized_pnl") is not None else None

            health = StatusReport.from_json(await eventually(priced, what="a priced position"))
            daemon.request_stop("test over")
            async with asyncio.timeout(30):
                await running
        status, verdict, note = await collect_status(settings, clock=clock)

    assert verdict is StatusExit.NOT_RUNNING and note is None and status.source == "database"
    assert health.marks == status.marks and health.marks[XLM]
    assert _pnl(health) == _pnl(status)
    # and they are the right figures, not merely equal ones (shown to the quote's decimals)
    mark = D(health.marks[XLM])
    cents = status.decimals["USD"]
    shown = _pnl(status)
    realized_1 = D("4.05") + D("6.474") - D("0.0065") - D("10.01")  # sold less the cost
    realized_2 = D("3") - D("0.003") - D("8.4") * D("10") / D("29.8")
    assert shown["total_pnl"] == D(amount_text(realized_1 + realized_2, cents) or "")
    assert shown["position"] == {XLM: D("19.8")}
    unrealized = D("19.8") * mark - (D("8.4") - D("8.4") * D("10") / D("29.8"))
    assert shown["unrealized_pnl"] == D(amount_text(unrealized, cents) or "")
    fees = D("0.01") + D("0.027") + D("0.0065") + D("0.056") + D("0.003")
    assert shown["fees"] == fees
