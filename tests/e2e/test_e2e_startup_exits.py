"""End to end: each start-up step of `krakenbot run --live` / `--sim` fails in a real process
with its own exit status (app/exitcodes.py), one clear line naming the step, no traceback,
no secret, the instance lock released and nothing left that blocks the next start.

Each failure is real, not mocked: a file where a directory must be (nonce state, 5), a REST
server that answers garbage (6) or does not know the pair (6), a key without permission to
query orders (7), a WebSocket URL where nothing listens (8), a strategy that cannot be
imported (9), the health port taken by another socket, a runtime file or the entry in the
registry of running daemons that cannot be written (10), a --sim ledger that cannot be
replaced (4), a machine without a loopback port (11: a fresh network namespace whose only
ephemeral port is taken).
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from e2e_helpers import Result, daemon_env

from krakenbot.app.exitcodes import RunExit
from krakenbot.lock import InstanceLock
from krakenbot.sim import Sim, SimConfig, running_sim

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX processes and sockets")

# Fake credentials the sim accepts; they must never be printed or logged.
API_KEY = "E2Efake" + secrets.token_hex(16)
API_SECRET = base64.b64encode(secrets.token_bytes(64)).decode()
RUN_TIMEOUT_S = 45.0
TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    cfg = SimConfig(
        pairs=("XLM/USD",),
        feed="random",
        feed_interval_s=0.1,
        seed=11,
        tier="pro",
        api_key=API_KEY,
        api_secret=API_SECRET,
    )
    async with running_sim(cfg) as s:
        yield s


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another program holds (listening), for the duration of the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield int(holder.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (bound then released: nobody else asks for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(home: Path, sim: Sim, **extra: str) -> dict[str, str]:
    # The operator's default console logging: what a person sees is what we check.
    return daemon_env(home, sim, LOG_CONSOLE="true", REST_TIMEOUT_S="2", **extra)


async def _run(home: Path, env: dict[str, str], *args: str, prefix: tuple[str, ...] = ()) -> Result:
    cmd = [*prefix, sys.executable, "-m", "krakenbot", "run", *args]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        cwd=home,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def _assert_failed_at(
    result: Result, expected: RunExit, step: str, *, home: Path, lock: Path
) -> None:
    text = result.out + result.err
    assert result.code == int(expected), f"exit {result.code}, expected {int(expected)}:\n{text}"
    reasons = [line for line in result.err.splitlines() if f"failed at step '{step}'" in line]
    assert reasons, f"no one-line reason naming step {step!r} on stderr:\n{result.err}"
    assert TRACEBACK not in text, text
    for secret in (API_KEY, API_SECRET):
        assert secret not in text
    for path in home.rglob("*"):  # the log, the ledger, runtime files: none may hold them
        if path.is_file():
            content = path.read_bytes()
            assert API_KEY.encode() not in content and API_SECRET.encode() not in content, path
    again = InstanceLock(lock)
    again.acquire()  # raises InstanceLockedError if the failed run left it held
    again.release()


def _files(env: dict[str, str]) -> tuple[Path, Path]:
    data = Path(env["DATA_DIR"])
    return data, Path(env["LOCK_FILE"])


def _assert_nothing_left(data: Path) -> None:
    """No discovery files claim a running daemon after a failed start."""
    assert not (data / "daemon.json").exists()
    assert not (data / ".stop_token").exists()
    registry = Path(os.environ["KRAKENBOT_STATE_DIR"]) / "daemons"  # the test's own
    assert not registry.is_dir() or [p.name for p in registry.iterdir()] == []


async def _starts_cleanly(home: Path, env: dict[str, str]) -> None:
    """The same home, fault removed, starts, runs and stops cleanly. The built-in strategy
    is still warming up after 1 s: no order to cancel keeps the stop quick."""
    result = await _run(home, {**env, "STRATEGY": "mean_reversion"}, "--live", "--duration", "1")
    assert result.code == 0, result.out + result.err


async def test_nonce_state_directory_unusable_exits_5(
    sim: Sim, tmp_path: Path, krakenbot_state_dir: Path
) -> None:
    env = _env(tmp_path, sim)
    data, lock = _files(env)
    # net.rest_core.KEY_STATE_SUBDIR in the per-user state directory: a file, not a directory
    blocker = krakenbot_state_dir / "kraken-keys"
    blocker.write_text("not a directory\n", encoding="utf-8")
    result = await _run(tmp_path, env, "--live")
    _assert_failed_at(result, RunExit.NONCE_STATE, "nonce", home=tmp_path, lock=lock)
    _assert_nothing_left(data)
    # The next start gets past the lock and the (now migrated) ledger to the same step.
    again = await _run(tmp_path, env, "--live")
    _assert_failed_at(again, RunExit.NONCE_STATE, "nonce", home=tmp_path, lock=lock)
    assert blocker.read_text(encoding="utf-8") == "not a directory\n"  # never overwritten


async def test_rest_server_answering_garbage_exits_6(sim: Sim, tmp_path: Path) -> None:
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(text="<html>502 bad gateway</html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", garbage)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = int(runner.addresses[0][1])
        env = _env(tmp_path, sim, KRAKEN_REST_URL=f"http://127.0.0.1:{port}")
        data, lock = _files(env)
        result = await _run(tmp_path, env, "--live")
    finally:
        await runner.cleanup()
    _assert_failed_at(result, RunExit.EXCHANGE, "exchange", home=tmp_path, lock=lock)
    _assert_nothing_left(data)


async def test_pair_the_exchange_does_not_list_exits_6(sim: Sim, tmp_path: Path) -> None:
    env = _env(tmp_path, sim, ALLOWED_PAIRS="ETH/USD", E2E_SYMBOL="ETH/USD")
    data, lock = _files(env)
    result = await _run(tmp_path, env, "--live")
    _assert_failed_at(result, RunExit.EXCHANGE, "instruments", home=tmp_path, lock=lock)
    _assert_nothing_left(data)


async def test_key_without_order_query_permission_exits_7(sim: Sim, tmp_path: Path) -> None:
    env = _env(tmp_path, sim)
    data, lock = _files(env)
    sim.control.faults.kraken_error("EGeneral:Permission denied", count=1000, method="OpenOrders")
    result = await _run(tmp_path, env, "--live")
    _assert_failed_at(result, RunExit.RECONCILE, "reconcile", home=tmp_path, lock=lock)
    _assert_nothing_left(data)
    sim.control.faults.clear()
    await _starts_cleanly(tmp_path, env)


async def test_websocket_nobody_answers_exits_8(sim: Sim, tmp_path: Path, free_port: int) -> None:
    # The start-up watch allows max(15 s, 2 x WS_CONNECT_TIMEOUT_S) for the sessions.
    url = f"ws://127.0.0.1:{free_port}/v2"
    env = _env(tmp_path, sim, KRAKEN_WS_URL=url, WS_CONNECT_TIMEOUT_S="1")
    data, lock = _files(env)
    result = await _run(tmp_path, env, "--live")
    _assert_failed_at(result, RunExit.WEBSOCKET, "websocket", home=tmp_path, lock=lock)
    _assert_nothing_left(data)


async def test_strategy_that_cannot_be_loaded_exits_9(sim: Sim, tmp_path: Path) -> None:
    # Passes settings validation (package.module:ClassName) and fails building the engine.
    env = _env(tmp_path, sim, STRATEGY="e2e_strategy:NoSuchStrategy")
    data, lock = _files(env)
    result = await _run(tmp_path, env, "--live")
    _assert_failed_at(result, RunExit.ENGINE, "strategy", home=tmp_path, lock=lock)
    _assert_nothing_left(data)


async def test_health_port_taken_exits_10(sim: Sim, tmp_path: Path, taken_port: int) -> None:
    env = _env(tmp_path, sim, HEALTH_PORT=str(taken_port))
    data, lock = _files(env)
    result = await _run(tmp_path, env, "--live")
    _assert_failed_at(result, RunExit.HEALTH_SERVER, "health", home=tmp_path, lock=lock)
    _assert_nothing_left(data)
    assert sim.control.dead_man_trigger_ns() is None  # never armed: no order can be placed
    env["HEALTH_PORT"] = "0"
    await _starts_cleanly(tmp_path, env)


@pytest.mark.parametrize("name", [".stop_token", "daemon.json"])  # app/runtime_files.py
async def test_runtime_file_that_cannot_be_written_exits_10(
    sim: Sim, tmp_path: Path, name: str
) -> None:
    # `status` and `stop` find the daemon through these files: without them it must not run.
    env = _env(tmp_path, sim)
    data, lock = _files(env)
    blocker = data / name
    blocker.mkdir(parents=True)  # a directory where the file must be written
    result = await _run(tmp_path, env, "--live")
    _assert_failed_at(result, RunExit.HEALTH_SERVER, "health", home=tmp_path, lock=lock)
    assert sorted(p.name for p in data.iterdir() if p.name.endswith(".tmp")) == []
    assert sim.control.dead_man_trigger_ns() is None
    blocker.rmdir()
    _assert_nothing_left(data)


async def test_registry_that_cannot_be_written_exits_10(
    sim: Sim, tmp_path: Path, krakenbot_state_dir: Path
) -> None:
    # `stop` and `status` find the daemon through its registry entry, from any folder:
    # a daemon they could not find must not run. Checked before anything is sent.
    env = _env(tmp_path, sim)
    data, lock = _files(env)
    blocker = krakenbot_state_dir / "daemons"  # app/registry.py REGISTRY_SUBDIR
    blocker.write_text("not a directory\n", encoding="utf-8")
    result = await _run(tmp_path, env, "--live")
    _assert_failed_at(result, RunExit.HEALTH_SERVER, "health", home=tmp_path, lock=lock)
    assert "KRAKENBOT_STATE_DIR" in result.err  # says what to do
    assert sim.control.orders() == [] and sim.control.dead_man_trigger_ns() is None
    blocker.unlink()
    _assert_nothing_left(data)
    await _starts_cleanly(tmp_path, env)
    _assert_nothing_left(data)  # a clean exit removes the entry


async def test_sim_ledger_that_cannot_be_replaced_exits_4(tmp_path: Path) -> None:
    env = _sim_env(tmp_path)
    data = tmp_path / "data" / "sim"
    (data / "trading.db").mkdir(parents=True)  # `--sim` starts from an empty ledger each run
    result = await _run(tmp_path, env, "--sim", "--duration", "1")
    _assert_failed_at(
        result, RunExit.DATABASE, "database", home=tmp_path, lock=data / ".trading_lock"
    )
    _assert_nothing_left(data)


def _sim_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "TRADING_"))}
    env.update(
        {
            "DATA_DIR": str(home / "data"),
            "LOG_CONSOLE": "true",
            "KRAKEN_API_KEY": API_KEY,  # --sim uses its own throwaway keys; these must not show
            "KRAKEN_API_SECRET": API_SECRET,
        }
    )
    return env


# Runs argv[1:] in this network namespace with the only ephemeral port held by a listening
# socket: binding any loopback port 0 fails with EADDRINUSE ("no free port on this host").
_NO_FREE_PORT = """
import socket, subprocess, sys
with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
    f.write("61000 61000")
holder = socket.socket()
holder.bind(("127.0.0.1", 61000))
holder.listen(1)
sys.exit(subprocess.run(sys.argv[1:], check=False).returncode)
"""


async def _no_free_port_prefix() -> tuple[str, ...] | None:
    """`unshare -rn python -c …`: a private network namespace (user namespace for rights)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    prefix = (unshare, "-rn", sys.executable, "-c", _NO_FREE_PORT)
    probe = await asyncio.create_subprocess_exec(
        *prefix,
        sys.executable,
        "-c",
        "import socket; socket.socket().bind(('127.0.0.1', 0))",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(20):
        _, err = await probe.communicate()
    return prefix if probe.returncode == 1 and b"Address already in use" in err else None


async def test_simulator_without_a_free_port_exits_11(tmp_path: Path) -> None:
    prefix = await _no_free_port_prefix()
    if prefix is None:
        pytest.skip("needs `unshare -rn` (unprivileged user and network namespaces)")
    env = _sim_env(tmp_path)
    data = tmp_path / "data" / "sim"
    result = await _run(tmp_path, env, "--sim", "--duration", "1", prefix=prefix)
    _assert_failed_at(
        result, RunExit.SIMULATOR, "simulator", home=tmp_path, lock=data / ".trading_lock"
    )
    _assert_nothing_left(data)
