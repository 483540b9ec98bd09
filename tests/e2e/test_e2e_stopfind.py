"""End to end: `stop` and `status` find the running daemon from any folder, in any mode.

The daemons run with the default, relative DATA_DIR / DATABASE_PATH / LOCK_FILE in folder A;
`stop` and `status` run in an unrelated folder B with no option and no setting pointing at A.
They find the daemon through the per-user registry (KRAKENBOT_STATE_DIR, the test's own
temporary folder: tests/conftest.py).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import aiohttp
import pytest
from e2e_helpers import (
    Daemon,
    cli,
    daemon_env,
    gone,
    open_orders,
    sim_daemon_env,
    start_daemon,
    start_sim_daemon,
)
from tests.eventually import eventually

from krakenbot.app.exitcodes import StatusExit, StopExit
from krakenbot.sim import SimConfig, running_sim

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")


def _folders(tmp_path: Path, *names: str) -> list[Path]:
    made = [tmp_path / name for name in names]
    for folder in made:
        folder.mkdir()
    return made


async def _reports_running(
    home: Path,
    env: dict[str, str],
    daemon: Daemon,
    *,
    data_dir: Path | None = None,
    sim: bool = False,
) -> bool:
    pick = ["--data-dir", str(data_dir)] if data_dir is not None else []
    pick += ["--sim"] if sim else []
    status = await cli(home, env, "status", "--json", *pick)
    if status.code not in (StatusExit.HEALTHY, StatusExit.DEGRADED):
        return False
    doc = status.json()
    return doc["running"] is True and doc["pid"] == daemon.pid


async def _answers(data_dir: Path) -> bool:
    """The daemon's health server answers (found through its own data directory)."""
    try:
        url = json.loads((data_dir / "daemon.json").read_text(encoding="utf-8"))["health_url"]
        async with aiohttp.ClientSession() as session, session.get(f"{url}/health") as response:
            return response.status in (200, 503)
    except (OSError, ValueError, KeyError, aiohttp.ClientError):
        return False


async def test_stop_and_status_from_another_folder_find_a_run_sim_daemon(tmp_path: Path) -> None:
    a, b = _folders(tmp_path, "a", "b")
    env = sim_daemon_env()
    daemon = await start_sim_daemon(a, env)
    try:
        up = functools.partial(_reports_running, a, env, daemon, sim=True)
        await eventually(up, 60, "the daemon is up (asked in its own folder, with --sim)")
        status = await cli(b, env, "status", "--json")
        assert status.code in (StatusExit.HEALTHY, StatusExit.DEGRADED), status.out
        doc = status.json()
        assert doc["running"] is True and doc["pid"] == daemon.pid and doc["mode"] == "sim"
        assert Path(doc["data_files"]["database"]) == a / "data" / "sim" / "trading.db"
        stop = await cli(b, env, "stop")
        assert gone(daemon.pid), stop.out  # `stop` returned only once the daemon was gone
        assert stop.code == StopExit.OK, stop.out + stop.err
        assert await daemon.wait(10) == 0
        after = await cli(b, env, "status", "--json")
        assert after.code == StatusExit.NOT_RUNNING, after.out
    finally:
        daemon.kill9()


async def test_stop_from_another_folder_stops_a_live_daemon(tmp_path: Path) -> None:
    a, b = _folders(tmp_path, "a", "b")
    cfg = SimConfig(pairs=("XLM/USD",), feed="random", feed_interval_s=0.1, seed=5, tier="pro")
    async with running_sim(cfg) as sim:
        env = daemon_env(a, sim)
        for name in ("DATA_DIR", "DATABASE_PATH", "LOG_FILE", "LOCK_FILE"):
            del env[name]  # the defaults: relative to folder A
        daemon = await start_daemon(a, env)
        operator = sim_daemon_env()  # folder B's shell: no key, no URL, nothing about A
        try:
            await eventually(lambda: bool(open_orders(sim)), 30, "the daemon has an order out")
            stop = await cli(b, operator, "stop")
            assert gone(daemon.pid), stop.out  # it found the daemon, and waited for it
            assert stop.code == StopExit.OK, stop.out + stop.err
            assert await daemon.wait(10) == 0
            # Its graceful stop cancelled its orders; a fill under a loaded machine may have
            # left a position, which keeps its protective stop-loss sell (and nothing else).
            left = open_orders(sim)
            assert all(o["type"] == "stop-loss" and o["side"] == "sell" for o in left), left
            assert len(left) <= 1, left
            assert (a / "trading.db").is_file() and not (b / "trading.db").exists()
            after = await cli(b, operator, "status", "--json")
            assert after.code == StatusExit.NOT_RUNNING, after.out
        finally:
            daemon.kill9()


async def test_with_two_daemons_stop_refuses_to_guess_until_one_is_named(tmp_path: Path) -> None:
    a1, a2, b = _folders(tmp_path, "a1", "a2", "b")
    env = sim_daemon_env()
    first = await start_sim_daemon(a1, env)
    second = await start_sim_daemon(a2, env)
    try:
        for daemon in (first, second):
            up = functools.partial(_answers, daemon.home / "data" / "sim")
            await eventually(up, 60, "both daemons answer on their health URLs")
        refused = await cli(b, env, "stop", "--cancel-all")
        assert refused.code == StopExit.NOT_CHOSEN, refused.out + refused.err
        assert str(first.pid) in refused.err and str(second.pid) in refused.err
        assert not gone(first.pid) and not gone(second.pid)  # nothing was stopped
        status = await cli(b, env, "status", "--json")
        assert status.code == StatusExit.UNKNOWN
        assert {d["pid"] for d in status.json()["daemons"]} == {first.pid, second.pid}
        # --data-dir names one (DATA_DIR of `run --sim`; its sim/ folder would do too).
        stop = await cli(b, env, "stop", "--data-dir", str(a1 / "data"))
        assert stop.code == StopExit.OK, stop.out + stop.err
        assert gone(first.pid) and not gone(second.pid)
        # Only one left: no option needed.
        stop = await cli(b, env, "stop")
        assert stop.code == StopExit.OK, stop.out + stop.err
        assert gone(second.pid)
    finally:
        first.kill9()
        second.kill9()
