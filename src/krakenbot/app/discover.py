"""Which daemon `stop` and `status` act on, from any folder, without knowing its mode.

Owns: `locate` — the running daemons are those in the per-user registry (app/registry.py)
plus any found the old way, through the lock files the current settings name (LOCK_FILE and
DATA_DIR/sim: a daemon of an older krakenbot, or one whose registry entry is unreadable);
`--sim` and `--data-dir` only filter them, and several are never guessed between — and the
settings to use for the daemon chosen: the operator's environment and settings file (or the
one the daemon started with), with the daemon's own data directory, ledger, log and lock.
Imports: anything (composition root).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from krakenbot.app.registry import Choice, DaemonEntry, choose, registry_dir, running_daemons
from krakenbot.app.runtime_files import read_runtime, token_path
from krakenbot.app.startup_steps import sim_paths, sim_root
from krakenbot.app.statedir import user_state_dir
from krakenbot.config import Settings, load_settings
from krakenbot.errors import ConfigError
from krakenbot.lock import LockRecord, is_alive


@dataclass(frozen=True, slots=True)
class Located:
    choice: Choice
    settings: Settings | None  # for the daemon chosen (or, with none, the operator's own)
    settings_error: str | None  # why there are no settings (the daemon is still found)
    registry: Path  # where we looked, for the operator


def _abs(path: Path) -> str:
    return os.path.abspath(path)


def lock_entry(lock_file: Path, data_dir: Path, settings: Settings) -> DaemonEntry | None:
    """The daemon holding `lock_file`, described from its lock record and daemon.json."""
    try:
        record = LockRecord.parse(lock_file.read_text(encoding="utf-8"))
    except OSError:
        return None
    if record is None or not is_alive(record):
        return None
    runtime = read_runtime(data_dir)
    ours = runtime is not None and runtime.pid == record.pid
    sim = data_dir == sim_root(settings)
    return DaemonEntry(
        pid=record.pid,
        create_time=record.create_time,
        mode=runtime.mode if runtime is not None and ours else ("sim" if sim else "unknown"),
        data_dir=_abs(data_dir),
        lock_file=_abs(lock_file),
        database=_abs(data_dir / "trading.db" if sim else settings.database_path),
        log_file=_abs(data_dir / "krakenbot.log" if sim else settings.log_file),
        token_file=_abs(token_path(data_dir)),
        health_url=runtime.health_url if runtime is not None and ours else None,
        started_ns=runtime.started_ns if runtime is not None and ours else 0,
    )


def find_daemons(settings: Settings | None, state_dir: Path) -> list[DaemonEntry]:
    """Every running daemon we can see: the registry's, then the settings' lock files'."""
    found = running_daemons(registry_dir(state_dir))
    if settings is None:
        return found
    pids = {e.pid for e in found}
    root = sim_root(settings)
    places = ((settings.lock_file, settings.data_dir), (root / ".trading_lock", root))
    for lock_file, data_dir in places:
        entry = lock_entry(lock_file, data_dir, settings)
        if entry is not None and entry.pid not in pids:
            found.append(entry)
            pids.add(entry.pid)
    return found


def for_entry(settings: Settings, entry: DaemonEntry) -> Settings:
    """The operator's settings pointed at the daemon's own files."""
    return settings.model_copy(
        update={
            "data_dir": Path(entry.data_dir),
            "database_path": Path(entry.database),
            "log_file": Path(entry.log_file),
            "lock_file": Path(entry.lock_file),
        }
    )


def offline(settings: Settings, *, sim: bool, data_dir: Path | None) -> Settings:
    """No daemon chosen: the ledger the options name (`--sim`: DATA_DIR/sim, as `run --sim`)."""
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    return sim_paths(settings) if sim else settings


def _load(env_file: str | None) -> tuple[Settings | None, str | None]:
    try:
        return load_settings(env_file), None
    except ConfigError as exc:
        return None, str(exc)


def locate(
    env_file: str | None,
    *,
    sim: bool,
    data_dir: str | None,
    state_dir: Path | None = None,
) -> Located:
    """The daemon meant by the options, and the settings to talk to it (see module doc)."""
    state = state_dir or user_state_dir()
    wanted = Path(_abs(Path(data_dir))) if data_dir else None
    base, error = _load(env_file)
    choice = choose(find_daemons(base, state), sim=sim, data_dir=wanted)
    entry = choice.chosen
    if entry is None:
        settings = None if base is None else offline(base, sim=sim, data_dir=wanted)
        return Located(choice, settings, error, registry_dir(state))
    if env_file is None and entry.env_file and Path(entry.env_file).is_file():
        # The settings file the daemon itself read (its keys, its URLs), not this folder's.
        base, error = _load(entry.env_file)
    settings = None if base is None else for_entry(base, entry)
    return Located(choice, settings, error, registry_dir(state))
