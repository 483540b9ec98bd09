"""The daemon's start-up steps before the trading stack: lock, settings, database, nonce state.

Owns: `StartupStepError` (a failed step with its exit status and an operator message), the lock
path (read before the settings are validated, so a second instance is refused first), the
run-mode rules (live needs TRADING_MODE=live AND --live AND keys), the `--sim` settings
(its own data directory, loopback endpoints, the simulator's throwaway credentials), the
daemon's entry in the per-user registry of running daemons (app/registry.py), opening
and migrating the ledger (with a backup), the check of the per-key nonce state and the live
banner (the limits in force).
Imports: anything (composition root).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psutil
from dotenv import dotenv_values
from pydantic import SecretStr

from krakenbot.app.exitcodes import RunExit
from krakenbot.app.registry import DaemonEntry, Registration, registry_dir
from krakenbot.app.runtime_files import token_path
from krakenbot.app.statedir import STATE_DIR_ENV, user_state_dir
from krakenbot.clock import Clock
from krakenbot.config import DEFAULT_ENV_FILE, Settings, load_settings
from krakenbot.domain.sections import Credentials, TradingMode
from krakenbot.errors import ConfigError, KrakenbotError
from krakenbot.net.nonce_store import KeyStateStore, peek_high_water, state_file
from krakenbot.net.rest_core import key_state_dir
from krakenbot.store import Database, LedgerRepository, migrate
from krakenbot.store.lock_wait import LOCK_WAIT_S, is_lock_error
from krakenbot.store.migrations import MigrationResult
from krakenbot.store.orderjournal import journal_paths

logger = logging.getLogger(__name__)

SIM_SUBDIR = "sim"
_NONCE_LOCK_TIMEOUT_S = 10.0


class StartupStepError(Exception):
    """A start-up step failed; `exit_status` is the process's exit status."""

    def __init__(self, step: str, exit_status: RunExit, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.exit_status = exit_status
        self.message = message


@dataclass(frozen=True, slots=True)
class RunMode:
    name: str  # "paper" | "live" | "sim"
    live_path: bool  # True: KrakenVenue over REST + private WS (live and sim)


def _raw_env(env_file: str | None) -> dict[str, str]:
    values: dict[str, str] = {}
    source = Path(env_file) if env_file else Path(".env")
    if source.is_file():
        values.update({k: v for k, v in dotenv_values(source).items() if v})
    values.update({k: v for k, v in os.environ.items() if v})
    return values


def lock_path_hint(env_file: str | None, *, sim: bool) -> Path:
    """The lock file, read from the raw environment (LOCK_FILE, DATA_DIR) before validation.

    Pydantic-settings matches names case-insensitively; so do we."""
    raw = {k.upper(): v for k, v in _raw_env(env_file).items()}
    if sim:
        return Path(raw.get("DATA_DIR", "data")) / SIM_SUBDIR / ".trading_lock"
    return Path(raw.get("LOCK_FILE", ".trading_lock"))


def run_settings(env_file: str | None, *, sim: bool, live: bool) -> tuple[Settings, RunMode]:
    """Validated settings and the run mode; StartupStepError(settings, exit 2) when refused."""
    try:
        settings = load_settings(env_file)
    except ConfigError as exc:
        raise StartupStepError("settings", RunExit.SETTINGS, str(exc)) from None
    if sim:
        if live:
            raise StartupStepError(
                "settings", RunExit.SETTINGS, "--sim and --live exclude each other"
            )
        return settings, RunMode("sim", live_path=True)
    wants_live = settings.trading_mode is TradingMode.LIVE
    if live and not wants_live:
        raise StartupStepError(
            "settings",
            RunExit.SETTINGS,
            "--live given but TRADING_MODE is paper: set TRADING_MODE=live as well "
            "(both are required to trade real money)",
        )
    if wants_live and not live:
        raise StartupStepError(
            "settings",
            RunExit.SETTINGS,
            "TRADING_MODE=live but --live was not given: add --live to trade real money, "
            "or set TRADING_MODE=paper",
        )
    if live and settings.credentials() is None:
        raise StartupStepError(
            "settings", RunExit.SETTINGS, "live trading needs KRAKEN_API_KEY and KRAKEN_API_SECRET"
        )
    return settings, RunMode("live" if live else "paper", live_path=live)


def sim_root(settings: Settings) -> Path:
    return settings.data_dir / SIM_SUBDIR


def sim_paths(settings: Settings) -> Settings:
    """The `--sim` files: data directory, ledger, log and lock under DATA_DIR/sim."""
    root = sim_root(settings)
    return settings.model_copy(
        update={
            "data_dir": root,
            "database_path": root / "trading.db",
            "log_file": root / "krakenbot.log",
            "lock_file": root / ".trading_lock",
        }
    )


def sim_settings(
    settings: Settings, *, rest_url: str, ws_url: str, ws_auth_url: str, key: str, secret: str
) -> Settings:
    """`--sim`: the live code path against the loopback simulator, in its own data directory.

    The simulator's exchange starts empty on every run, so its ledger does too (the previous
    run's database is replaced); nothing of the real ledger is touched."""
    return sim_paths(settings).model_copy(
        update={
            "trading_mode": TradingMode.LIVE,
            "kraken_rest_url": rest_url,
            "kraken_ws_url": ws_url,
            "kraken_ws_auth_url": ws_auth_url,
            "kraken_api_key": SecretStr(key),
            "kraken_api_secret": SecretStr(secret),
            "kraken_status_api_key": None,
            "kraken_status_api_secret": None,
            "health_port": 0,
        }
    )


def register_daemon(
    settings: Settings, *, mode: str, env_file: str | None, started_ns: int
) -> Registration:
    """Start-up step: publish this daemon in the per-user registry, so `stop` and `status`
    find it from any folder. Refused (exit 10) when impossible: a daemon that `stop` could
    not find must not trade."""
    directory = registry_dir(user_state_dir())
    used = Path(env_file) if env_file else DEFAULT_ENV_FILE
    entry = DaemonEntry(
        pid=os.getpid(),
        create_time=psutil.Process().create_time(),
        mode=mode,
        data_dir=os.path.abspath(settings.data_dir),
        lock_file=os.path.abspath(settings.lock_file),
        database=os.path.abspath(settings.database_path),
        log_file=os.path.abspath(settings.log_file),
        token_file=os.path.abspath(token_path(settings.data_dir)),
        env_file=os.path.abspath(used) if used.is_file() else None,
        cwd=os.getcwd(),
        started_ns=started_ns,
    )
    registration = Registration(directory, entry)
    try:
        registration.publish()
    except OSError as exc:
        raise StartupStepError(
            "health",
            RunExit.HEALTH_SERVER,
            f"cannot register the daemon in {directory}: {exc} "
            f"(set {STATE_DIR_ENV} to a folder of yours that can be written)",
        ) from None
    return registration


def fresh_sim_database(path: Path) -> None:
    """Remove the previous `--sim` ledger (and its order journal: its orders were on the
    simulator that ended with it); StartupStepError(database, exit 4) if we cannot."""
    targets = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    for target in (*targets, *journal_paths(path, user_state_dir())):
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StartupStepError(
                "database", RunExit.DATABASE, f"cannot replace the --sim ledger {target}: {exc}"
            ) from None


async def open_database(
    path: Path, clock: Clock, grace_s: float = LOCK_WAIT_S * 2
) -> tuple[Database, MigrationResult]:
    """Open the ledger, migrate it (backing up an existing one first) and rewrite `trades`.
    From here on a write waits at most half of `grace_s` (LEDGER_FAILURE_GRACE_S; at most
    5 s) for another program's lock: one locked write then leaves the ledger watch half
    the grace to find the lock gone before the safe stop (store/lock_wait.py)."""
    try:
        db = await Database.open(path)
    except (sqlite3.Error, OSError) as exc:
        raise StartupStepError(
            "database", RunExit.DATABASE, f"cannot open {path}: {_explain(exc)}"
        ) from None
    db.lock_wait.limit(grace_s / 2)
    try:
        result = await migrate(db, clock)
        # `trades` is a projection of the fills: rewrite it by today's rule (rows an older
        # krakenbot wrote included) before anyone reads it.
        await LedgerRepository(db, clock).rebuild_trades()
    except (KrakenbotError, sqlite3.Error, OSError) as exc:
        await db.close()
        raise StartupStepError("database", RunExit.DATABASE, f"{path}: {_explain(exc)}") from None
    return db, result


def _explain(exc: BaseException) -> str:
    if not is_lock_error(exc):
        return str(exc)
    return (
        f"{exc}: another program holds a lock on it (an open `sqlite3` shell in a "
        "transaction, a backup tool, a krakenbot started with another lock file?); "
        "end it or wait until it is done, then start again"
    )


def key_states(settings: Settings, mode: RunMode) -> Path:
    """Where the key's nonce/rate state lives: the per-user state directory, so every
    process using a key shares one nonce sequence whatever its DATA_DIR or folder. `--sim`
    keeps its throwaway key's state in its own data directory (nobody else uses that key,
    and it must not pile up in the user's state directory run after run)."""
    if mode.name == "sim":
        return key_state_dir(settings.data_dir)
    return key_state_dir(user_state_dir())


async def check_nonce_state(
    state_dir: Path, credentials: Credentials | None, *, carry_over_from: Path | None = None
) -> Path | None:
    """Load the key's nonce/rate state once under its lock: a corrupt file or a lock held by a
    stuck process stops us here instead of at the first order. A high-water mark left in
    `carry_over_from`/kraken-keys (the DATA_DIR where older versions kept it) is carried
    over, so nonces stay above every nonce already used even if the clock stepped back."""
    if credentials is None:
        return None
    key = credentials.api_key.get_secret_value()
    try:
        store = KeyStateStore(state_dir, key, lock_timeout_s=_NONCE_LOCK_TIMEOUT_S)
    except KrakenbotError as exc:
        raise StartupStepError("nonce", RunExit.NONCE_STATE, str(exc)) from None
    try:
        state = await store.acquire()
        old_dir = None if carry_over_from is None else key_state_dir(carry_over_from)
        if old_dir is not None and old_dir != state_dir:
            old = peek_high_water(state_file(old_dir, key))
            if old > state.nonce_high_water:
                state.nonce_high_water = old
                store.save()
        store.release()
    except (KrakenbotError, OSError) as exc:
        raise StartupStepError("nonce", RunExit.NONCE_STATE, f"nonce state: {exc}") from None
    finally:
        store.close()
    return store.path


def live_banner(settings: Settings) -> None:
    """The limits in force, logged once at the start of a live run."""
    limits = settings.risk_limits()
    banner = (
        "LIVE TRADING WITH REAL MONEY on %s: max %s USD per trade, max exposure %s USD, "
        "max %d position(s), daily loss limit %s USD, pairs %s, post-only %s; dead man's "
        "switch %d s (cancels EVERY order on the account if krakenbot stops refreshing it)"
    )
    logger.warning(
        banner,
        settings.kraken_rest_url,
        limits.max_trade_usd,
        limits.max_total_exposure_usd,
        limits.max_positions,
        limits.max_daily_loss_usd,
        ",".join(settings.allowed_pairs),
        limits.post_only,
        settings.dead_man_switch_timeout_s,
    )
