"""`krakenbot run`: the start-up sequence, in order, then the daemon until it stops.

Owns: `RunOptions` and `run_daemon`. Steps and their exit statuses (app.exitcodes.RunExit):
instance lock (3) → settings (2) → entry in the registry of running daemons (10) →
[--sim: embedded simulator (11)] → database migrate with backup (4) → nonce state (5) →
trading stack: REST SystemStatus/AssetPairs/balances (6), reconciliation (7) → health server
(10) → the TaskGroup: WebSocket sessions connected (8), engine (9) → running; a failure while
running exits 1 after the safe stop. Signals (SIGINT/SIGTERM; Ctrl+C/Ctrl+Break on Windows)
and `POST /stop` ask for a graceful stop.
Imports: anything (composition root).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from krakenbot.app import summary as sim_summary
from krakenbot.app.controls import Controls
from krakenbot.app.dashboard_server import build_dashboard
from krakenbot.app.deadman import DeadMansSwitch
from krakenbot.app.exitcodes import RunExit, exit_for_step
from krakenbot.app.health_server import HealthServer
from krakenbot.app.notices import Notices, build_notices
from krakenbot.app.observers import attach, wire
from krakenbot.app.registry import Registration
from krakenbot.app.runtime_files import RuntimeInfo, new_token, remove_runtime, write_runtime
from krakenbot.app.signals import Signals
from krakenbot.app.simdemo import sim_config, sim_strategies
from krakenbot.app.stack_protocol import StackLike, StackOpener
from krakenbot.app.startup_steps import (
    RunMode,
    StartupStepError,
    check_nonce_state,
    fresh_sim_database,
    key_states,
    live_banner,
    lock_path_hint,
    open_database,
    register_daemon,
    run_settings,
    sim_paths,
    sim_settings,
)
from krakenbot.app.status_check import files_in_use
from krakenbot.app.supervisor import Daemon, DaemonConfig
from krakenbot.app.trading_stack import Endpoints, StackTuning, open_stack
from krakenbot.clock import Clock, SystemClock
from krakenbot.config import Settings
from krakenbot.lock import InstanceLock, InstanceLockedError
from krakenbot.logs import LoggingHandle, configure_logging
from krakenbot.sim import Sim, running_sim
from krakenbot.store import LedgerRepository

logger = logging.getLogger(__name__)

# Replay-feed compression for `--sim`: one real 1-minute candle every 0.2 s, so a 60 s demo
# covers five hours of real market movement — enough for entries, fills and exits with the
# strategy's default thresholds — while the daemon's own clock (rate limits, dead man's
# switch, timeouts) stays real time. See app/simdemo.py.
SIM_SPEED = 300.0


@dataclass(frozen=True, slots=True)
class RunOptions:
    sim: bool = False
    live: bool = False
    duration_s: float | None = None
    env_file: str | None = None
    sim_speed: float = SIM_SPEED
    sim_feed: str = "replay"
    record: Path | None = None  # `--record PATH`: the engine's inputs and sends (backtest)
    out: TextIO = field(default=sys.stdout)
    err: TextIO = field(default=sys.stderr)


def default_opener() -> tuple[StackOpener, type[Endpoints]]:
    """open_stack and Endpoints from app/trading_stack.py (the engine side's composition)."""
    return open_stack, Endpoints


async def run_daemon(
    opts: RunOptions,
    *,
    opener: tuple[StackOpener, type[Endpoints]] | None = None,
    clock: Clock | None = None,
) -> int:
    clock = clock or SystemClock()
    signals = Signals()
    signals.install()
    lock = InstanceLock(lock_path_hint(opts.env_file, sim=opts.sim), clock=clock)
    try:
        lock.acquire()
    except InstanceLockedError as exc:
        print(f"krakenbot: {exc}", file=opts.err)
        signals.remove()
        return int(RunExit.LOCKED)
    log: LoggingHandle | None = None
    try:
        settings, mode = run_settings(opts.env_file, sim=opts.sim, live=opts.live)
        signals.console_logging = settings.log_console
        log = configure_logging(settings.log(), settings.secret_values(), capture_uncaught=True)
        registration = register_daemon(
            sim_paths(settings) if opts.sim else settings,
            mode=mode.name,
            env_file=opts.env_file,
            started_ns=clock.now_ns(),
        )
        try:
            async with _maybe_sim(opts, settings) as (settings, sim_handle):
                if sim_handle is not None and log is not None:
                    log.close()
                    log = configure_logging(
                        settings.log(), settings.secret_values(), capture_uncaught=True
                    )
                secrets = settings.secret_values()
                notices = build_notices(settings.notify(), mode.name, clock, secrets)
                async with notices.lifetime():  # start-up failures are told too
                    return await _run_with_settings(
                        opts,
                        settings=settings,
                        mode=mode,
                        clock=clock,
                        signals=signals,
                        opener=opener,
                        registration=registration,
                        sim=sim_handle,
                        notices=notices,
                    )
        finally:
            registration.remove()
    except StartupStepError as exc:
        message = f"krakenbot: start-up failed at step '{exc.step}': {exc.message}"
        _say(opts.err, message, log, console=signals.console_logging)
        return int(exc.exit_status)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if signals.startup_cancelled is None or task is None:
            raise
        task.uncancel()
        message = f"krakenbot: start-up interrupted by {signals.startup_cancelled}"
        _say(opts.err, message, log, console=signals.console_logging)
        return int(RunExit.INTERRUPTED)
    finally:
        signals.remove()
        lock.release()
        if log is not None:
            log.close()


def _say(stream: TextIO, message: str, log: LoggingHandle | None, *, console: bool) -> None:
    """To the log when it is set up, and to stderr unless the log's console already shows it."""
    if log is not None:
        logger.error(message)
    if log is None or not console:
        print(message, file=stream, flush=True)


@asynccontextmanager
async def _maybe_sim(opts: RunOptions, settings: Settings) -> AsyncIterator[tuple[Settings, Any]]:
    if not opts.sim:
        yield settings, None
        return
    cfg = sim_config(settings, speed=opts.sim_speed, feed=opts.sim_feed)
    try:
        sim_cm = running_sim(cfg)
        sim = await sim_cm.__aenter__()
    except (OSError, ValueError) as exc:
        raise StartupStepError("simulator", RunExit.SIMULATOR, f"cannot start: {exc}") from None
    try:
        derived = sim_settings(
            settings,
            rest_url=sim.rest_url,
            ws_url=sim.ws_url,
            ws_auth_url=sim.ws_auth_url,
            key=sim.api_key,
            secret=sim.api_secret,
        )
        fresh_sim_database(derived.database_path)
        yield derived, sim
    except BaseException as exc:
        await sim_cm.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        await sim_cm.__aexit__(None, None, None)


async def _run_with_settings(
    opts: RunOptions,
    *,
    settings: Settings,
    mode: RunMode,
    clock: Clock,
    signals: Signals,
    opener: tuple[StackOpener, type[Endpoints]] | None,
    registration: Registration,
    sim: Sim | None,
    notices: Notices,
) -> int:
    rng = random.Random()
    started_ns = clock.now_ns()
    db, migration = await open_database(
        settings.database_path, clock, settings.ledger_failure_grace_s
    )
    async with AsyncExitStack() as exits:
        exits.push_async_callback(db.close)
        if migration.backup_path is not None:
            logger.info(
                "ledger backed up before migrating",
                extra={"backup": str(migration.backup_path)},
            )
        repo = LedgerRepository(db, clock)
        credentials = settings.credentials() if mode.live_path else None
        key_dir = key_states(settings, mode)
        await check_nonce_state(key_dir, credentials, carry_over_from=settings.data_dir)
        open_stack, endpoints_cls = opener or default_opener()
        rest, ws = settings.rest(), settings.ws()
        endpoints = endpoints_cls(
            rest_url=rest.base_url, ws_url=ws.public_url, ws_auth_url=ws.auth_url
        )
        if mode.name == "live":
            live_banner(settings)
        extra: dict[str, Any] = {}
        if mode.name == "sim":
            extra["strategies"] = sim_strategies(settings, speed=opts.sim_speed)
            extra["tuning"] = StackTuning(key_state_dir=key_dir)
        try:
            stack: StackLike = await exits.enter_async_context(
                open_stack(
                    settings,
                    live=mode.live_path,
                    endpoints=endpoints,
                    credentials=credentials,
                    repo=repo,
                    clock=clock,
                    rng=rng,
                    **extra,
                )
            )
        except StartupStepError:
            raise
        except Exception as exc:
            step = str(getattr(exc, "step", "engine"))
            await _record(repo, "daemon_failed", {"component": step, "error": str(exc)})
            raise StartupStepError(step, exit_for_step(step), str(exc)) from None
        if opts.record is not None:
            try:
                exits.callback(stack.record_to(opts.record))
            except OSError as exc:
                raise StartupStepError(
                    "engine", RunExit.ENGINE, f"--record {opts.record}: {exc}"
                ) from None
        data_files = files_in_use(settings)
        metrics = attach(stack, clock, notices)  # GET /metrics (app/metrics.py)
        dms = None
        if mode.live_path:
            dms = DeadMansSwitch.for_stack(stack, settings.dead_man_switch(), clock)
        daemon = Daemon(
            config=DaemonConfig(
                mode=mode.name,
                live_path=mode.live_path,
                duration_s=opts.duration_s,
                startup_timeout_s=max(15.0, settings.ws().connect_timeout_s * 2),
            ),
            stack=stack,
            repo=repo,
            clock=clock,
            dms=dms,
            started_ns=started_ns,
            data_files=data_files,
        )
        try:
            token = new_token(settings.data_dir)
        except OSError as exc:
            raise await _health_failed(stack, dms, f"cannot write the stop token: {exc}") from None
        exits.callback(remove_runtime, settings.data_dir, os.getpid())
        try:
            dashboard = await build_dashboard(
                daemon.report,
                Controls(daemon),
                database=settings.database_path,
                clock=clock,
                token=token,
            )
        except OSError as exc:
            raise await _health_failed(stack, dms, f"cannot load the dashboard: {exc}") from None
        server = HealthServer(
            host=settings.health_host,
            port=settings.health_port,
            report=dashboard.report,
            request_stop=daemon.request_stop,
            token=token,
            emergency=daemon.emergency,
            dashboard=dashboard,
            metrics=metrics.render,
        )
        try:
            await server.start()
        except OSError as exc:
            raise await _health_failed(
                stack,
                dms,
                f"cannot serve /health on {settings.health_host}:{settings.health_port}: "
                f"{exc} (set HEALTH_PORT to a free port)",
            ) from None
        exits.push_async_callback(server.close)
        daemon.add_job("health server", server.serve_until)
        daemon.add_job("dashboard", dashboard.hub.serve_until)
        wire(notices, stack=stack, daemon=daemon, metrics=metrics, mode=mode.name)
        try:
            write_runtime(
                settings.data_dir,
                RuntimeInfo(
                    pid=os.getpid(),
                    mode=mode.name,
                    started_ns=started_ns,
                    health_url=server.url,
                    data_files=data_files,
                ),
            )
            registration.listening(server.url)
        except OSError as exc:
            raise await _health_failed(
                stack, dms, f"cannot write the runtime files: {exc}"
            ) from None
        await _record(
            repo,
            "daemon_started",
            {"mode": mode.name, "pid": os.getpid(), "health_url": server.url},
        )
        logger.info(
            "krakenbot starting",
            extra={"mode": mode.name, "health_url": server.url, "database": data_files["database"]},
        )
        # The console only (never the log): a login link works once, for a few minutes.
        print(
            f"krakenbot: dashboard {dashboard.url} - log in with {dashboard.login_link()} "
            "(works once; `python -m krakenbot dashboard` prints a new link)",
            file=opts.out,
            flush=True,
        )
        signals.daemon = daemon
        if signals.startup_cancelled is not None:
            daemon.request_stop(signals.startup_cancelled)
        outcome = await daemon.run()
        signals.daemon = None
        ok = outcome.exit_status is RunExit.OK
        notices.finished(ok, outcome.reason, int(outcome.exit_status))
        if opts.sim:
            await sim_summary.print_summary(
                opts.out,
                settings=settings,
                daemon=daemon,
                outcome=outcome,
                seconds=(clock.now_ns() - started_ns) / 1e9,
                speed=opts.sim_speed,
                sim=sim,
            )
        else:
            status = int(outcome.exit_status)
            ending = f"stopped ({outcome.reason})"
            if outcome.exit_status not in (RunExit.OK, RunExit.FAILED):  # WebSocket or engine
                ending = f"start-up failed at step '{outcome.failed_component}': {outcome.reason}"
            print(f"krakenbot: {ending}; exit status {status}", file=opts.err, flush=True)
        return int(outcome.exit_status)


async def _health_failed(
    stack: StackLike, dms: DeadMansSwitch | None, message: str
) -> StartupStepError:
    """The health step failed (its port, or the runtime files `status` and `stop` read): stop
    the stack, which has placed no order yet (its shutdown may now cover a bare position
    with a protective stop), and name the step. The dead man's switch an earlier process
    may have left armed is disabled while a position needs its stop (app/deadman.py)."""
    stack.request_stop("health server failed")
    await stack.shutdown(5.0, None if dms is None else dms.disable)
    if dms is not None:
        await dms.disable()
    return StartupStepError("health", RunExit.HEALTH_SERVER, message)


async def _record(repo: LedgerRepository, kind: str, payload: dict[str, object]) -> None:
    with contextlib.suppress(Exception):
        await repo.record_event(kind, payload)
