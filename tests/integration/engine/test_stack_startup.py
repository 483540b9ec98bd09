"""open_stack start-up: named failure steps, the services it hands the daemon, and
reconciliation after a private sequence gap."""

from __future__ import annotations

import random
import socket
from decimal import Decimal
from pathlib import Path

import pytest
from enginetest_helpers import (
    Scripted,
    buy,
    engine_env,
    fast_tuning,
    ledger,
    move_mid,
    resting,
    settings_for,
    sim_for_engine,
)
from tests.eventually import eventually

from krakenbot.app.trading_stack import Endpoints, StartupError, open_stack
from krakenbot.clock import SystemClock


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_exchange_is_a_named_startup_failure(tmp_path: Path) -> None:
    port = _closed_port()
    url = f"http://127.0.0.1:{port}"
    settings = settings_for(tmp_path, rest_timeout_s=1.0)
    async with ledger(tmp_path) as repo:
        with pytest.raises(StartupError) as caught:
            async with open_stack(
                settings,
                live=False,
                endpoints=Endpoints(url, f"ws://127.0.0.1:{port}/v2", ""),
                credentials=None,
                repo=repo,
                clock=SystemClock(),
                rng=random.Random(1),
                strategy=Scripted(),
                tuning=fast_tuning(),
            ):
                pass  # pragma: no cover - never reached
    assert caught.value.step == "exchange"


async def test_live_without_keys_is_refused(tmp_path: Path) -> None:
    async with sim_for_engine() as sim, ledger(tmp_path) as repo:
        with pytest.raises(StartupError) as caught:
            async with open_stack(
                settings_for(tmp_path),
                live=True,
                endpoints=Endpoints(sim.rest_url, sim.ws_url, sim.ws_auth_url),
                credentials=None,
                repo=repo,
                clock=SystemClock(),
                rng=random.Random(1),
                strategy=Scripted(),
            ):
                pass  # pragma: no cover - never reached
    assert caught.value.step == "config"


async def test_unknown_pair_is_a_named_startup_failure(tmp_path: Path) -> None:
    async with sim_for_engine() as sim, ledger(tmp_path) as repo:
        with pytest.raises(StartupError) as caught:
            async with open_stack(
                settings_for(tmp_path, allowed_pairs=("DOGE/USD",)),
                live=False,
                endpoints=Endpoints(sim.rest_url, sim.ws_url, sim.ws_auth_url),
                credentials=None,
                repo=repo,
                clock=SystemClock(),
                rng=random.Random(1),
                strategy=Scripted(symbol="DOGE/USD"),
            ):
                pass  # pragma: no cover - never reached
    assert caught.value.step == "instruments"


async def test_services_and_health_of_a_live_stack(tmp_path: Path) -> None:
    async with engine_env(tmp_path, Scripted()) as env:
        names = [name for name, _ in env.stack.services()]
        assert {"ws_public", "ws_private", "engine_market", "engine_account"} <= set(names)
        assert env.stack.rest is not None
        # healthy() does not need a verified book (the dead man's switch must not lapse over
        # a book resync), so wait for the first verified snapshot separately.
        await eventually(env.stack.healthy, what="healthy")
        await eventually(lambda: env.stack.health().book_verified, what="book verified")
        health = env.stack.health()
        assert health.book_verified and health.ws_private is not None


async def test_private_sequence_gap_triggers_reconciliation(tmp_path: Path) -> None:
    async with engine_env(tmp_path, Scripted()) as env:
        engine, sim = env.engine, env.sim
        await move_mid(env, "0.290000")
        runs = engine.health().counts.reconciles
        sim.control.faults.exec_sequence_gap()
        await engine.submit([buy("30", "0.289000")])
        await resting(env, "entry")
        sim.control.set_mid("XLM/USD", Decimal("0.288000"))
        await eventually(lambda: engine.health().counts.reconciles > runs, what="reconciled")
        await eventually(lambda: engine.core.portfolio.position("XLM/USD") == Decimal("30"))
        assert len(await env.repo.load_fills(0)) == 1
