"""The registry of running daemons: how `stop` and `status` find a daemon from any folder.

Owns: `DaemonEntry` (one running daemon: PID + process start time, mode, the absolute data
directory, lock, ledger, log, stop-token file, health URL, settings file), its file
`<state dir>/daemons/<pid>.json` (written atomically at start-up, updated once the health
server listens, removed at exit), reading the running ones (an entry whose PID is gone, or
reused by another process — told apart by psutil's start time — is stale: ignored and
pruned), and `choose` (pure): which daemon a `stop`/`status` means — the only one, or the
one `--data-dir` names; never a guess among several.
Why a registry rather than absolute default paths: DATA_DIR, DATABASE_PATH and LOCK_FILE stay
relative to the folder the daemon was started in (existing set-ups keep their files), and a
daemon is found whatever its settings, mode or working directory.
Imports: stdlib, krakenbot.lock (process identity), app.runtime_files (atomic writes).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from krakenbot.app.runtime_files import write_atomic
from krakenbot.lock import LockRecord, is_alive

REGISTRY_SUBDIR = "daemons"
_SUFFIX = ".json"


@dataclass(frozen=True, slots=True)
class DaemonEntry:
    pid: int
    create_time: float | None  # psutil's process start time: a reused PID is not this daemon
    mode: str  # sim | paper | live (| unknown: found through a lock file only)
    data_dir: str  # absolute paths from here on
    lock_file: str
    database: str
    log_file: str
    token_file: str
    health_url: str | None = None  # None while starting (before the health server listens)
    env_file: str | None = None  # the settings file the daemon read, if any
    cwd: str = ""
    started_ns: int = 0

    def to_text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def parse(text: str) -> DaemonEntry | None:
        """An entry from its file's text; None when it is not one (torn, foreign, edited)."""
        try:
            doc = json.loads(text)
            pid, created = doc["pid"], doc.get("create_time")
            if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
                return None
            if created is not None and not isinstance(created, int | float):
                return None
            paths = {k: str(doc[k]) for k in ("data_dir", "lock_file", "database", "log_file")}
            return DaemonEntry(
                pid=pid,
                create_time=None if created is None else float(created),
                mode=str(doc["mode"]),
                token_file=str(doc["token_file"]),
                health_url=_opt(doc.get("health_url")),
                env_file=_opt(doc.get("env_file")),
                cwd=str(doc.get("cwd", "")),
                started_ns=int(doc.get("started_ns", 0)),
                **paths,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def describe(self) -> str:
        """One line for a list of daemons."""
        where = self.health_url or "health server not up yet"
        return f"PID {self.pid}, mode {self.mode}, data dir {self.data_dir} ({where})"


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def same_dir(a: str | Path, b: str | Path) -> bool:
    """Two absolute folder names that mean the same folder (case-insensitive on Windows)."""
    return os.path.normcase(os.path.normpath(a)) == os.path.normcase(os.path.normpath(b))


def matches(entry: DaemonEntry, *, sim: bool, data_dir: Path | None) -> bool:
    """`--sim` keeps sim daemons; `--data-dir` (absolute) names a daemon's data directory,
    or the DATA_DIR whose `sim/` folder a `run --sim` daemon uses."""
    if sim and entry.mode != "sim":
        return False
    if data_dir is None:
        return True
    if same_dir(entry.data_dir, data_dir):
        return True
    return entry.mode == "sim" and same_dir(Path(entry.data_dir).parent, data_dir)


@dataclass(frozen=True, slots=True)
class Choice:
    chosen: DaemonEntry | None  # the daemon meant, or None
    candidates: tuple[DaemonEntry, ...]  # every running daemon the filters keep
    others: tuple[DaemonEntry, ...]  # running daemons the filters leave out

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1

    def refusal(self, command: str) -> str | None:
        """Why `command` must not act, listing the daemons; None when it may."""
        if self.ambiguous:
            listed = "; ".join(e.describe() for e in self.candidates)
            return (
                f"{len(self.candidates)} krakenbot daemons are running: {listed}. "
                f"Name one with `{command} --data-dir PATH`."
            )
        if self.chosen is None and self.others:
            listed = "; ".join(e.describe() for e in self.others)
            return (
                f"no running krakenbot daemon matches the options given, but "
                f"{len(self.others)} other(s) run: {listed}"
            )
        return None


def choose(entries: Sequence[DaemonEntry], *, sim: bool, data_dir: Path | None) -> Choice:
    """The one daemon the options mean. Several running daemons are never guessed between."""
    keep = tuple(e for e in entries if matches(e, sim=sim, data_dir=data_dir))
    others = tuple(e for e in entries if e not in keep)
    return Choice(keep[0] if len(keep) == 1 else None, keep, others)


# ---------------------------------------------------------------- files (I/O)


def registry_dir(state_dir: Path) -> Path:
    return state_dir / REGISTRY_SUBDIR


def entry_path(directory: Path, pid: int) -> Path:
    return directory / f"{pid}{_SUFFIX}"


def is_running(entry: DaemonEntry) -> bool:
    """The entry's process still runs and is the same process (not a reused PID)."""
    return is_alive(LockRecord(pid=entry.pid, create_time=entry.create_time))


def write_entry(directory: Path, entry: DaemonEntry) -> Path:
    """Publish (or update) an entry atomically; readable by this user only."""
    path = entry_path(directory, entry.pid)
    directory.mkdir(parents=True, exist_ok=True)
    write_atomic(path, entry.to_text() + "\n", 0o600)
    return path


def remove_entry(directory: Path, entry: DaemonEntry) -> None:
    """Remove our entry, if it is still ours (a reused PID may have replaced it)."""
    path = entry_path(directory, entry.pid)
    with contextlib.suppress(OSError):
        current = DaemonEntry.parse(path.read_text(encoding="utf-8"))
        if current is None or current.create_time == entry.create_time:
            path.unlink()


def read_entry(directory: Path, entry: DaemonEntry) -> DaemonEntry | None:
    """The current version of `entry` (the same process's), e.g. once it listens."""
    try:
        current = DaemonEntry.parse(entry_path(directory, entry.pid).read_text(encoding="utf-8"))
    except OSError:
        return None
    if current is None or current.create_time != entry.create_time:
        return None
    return current


def running_daemons(
    directory: Path, *, alive: Callable[[DaemonEntry], bool] = is_running
) -> list[DaemonEntry]:
    """Every registered daemon that still runs, oldest first; stale entries are pruned."""
    try:
        paths = sorted(directory.glob(f"*{_SUFFIX}"))
    except OSError:
        return []
    found: list[DaemonEntry] = []
    for path in paths:
        try:
            entry = DaemonEntry.parse(path.read_text(encoding="utf-8"))
        except OSError:
            continue  # being replaced right now, or unreadable: not ours to judge
        named = entry is not None and path.name == entry_path(directory, entry.pid).name
        if entry is not None and named and alive(entry):
            found.append(entry)
            continue
        with contextlib.suppress(OSError):  # stale (dead or reused PID) or not an entry
            path.unlink()
    return sorted(found, key=lambda e: (e.started_ns, e.pid))


class Registration:
    """This daemon's entry for its lifetime: `publish()`, `listening(url)`, `remove()`."""

    def __init__(self, directory: Path, entry: DaemonEntry) -> None:
        self.directory = directory
        self.entry = entry

    def publish(self) -> None:
        write_entry(self.directory, self.entry)

    def listening(self, health_url: str) -> None:
        """The health server is up: `stop` can now send its authenticated stop request."""
        self.entry = replace(self.entry, health_url=health_url)
        self.publish()

    def remove(self) -> None:
        remove_entry(self.directory, self.entry)
