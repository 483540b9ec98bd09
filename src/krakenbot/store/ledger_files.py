"""Can SQLite write the ledger's files? Checked before SQLite is allowed to touch them.

Owns: `ledger_file_problems(path)` — the database file, its `-wal` and its `-shm` must be
writable (or, where one is missing, its directory, because SQLite creates it there) — and
`LedgerFilesError`, raised instead of letting SQLite run.

Why before, not after: SQLite maps the `-shm` file into memory (the WAL index) and writes to
it through that mapping. Once the file is unwritable (read-only file system, `chattr +i`, a
read-only bind mount) the kernel answers such a write with SIGBUS, which kills the process at
once: no exception, no safe stop, no cancelled orders. Every read and write of the ledger can
write the WAL index (a reader records its read mark there), and so can closing it (the last
connection checkpoints). So `Database` asks here first, every time; `os.access` costs about a
microsecond a file. It honours the effective user, the immutable flag and read-only mounts
(root included: root bypasses permission bits but not those).
Imports: stdlib only.
"""

from __future__ import annotations

import os
from pathlib import Path

LEDGER_SUFFIXES = ("", "-wal", "-shm")
_EFFECTIVE = os.access in os.supports_effective_ids


class LedgerFilesError(PermissionError):
    """A ledger file (or its directory) is not writable: SQLite must not touch it."""


def ledger_files(path: Path) -> tuple[Path, ...]:
    """The database file, its write-ahead log and its shared-memory index."""
    return tuple(path.with_name(path.name + suffix) for suffix in LEDGER_SUFFIXES)


def writable(path: Path | str, mode: int = os.W_OK) -> bool:
    """The effective user may write `path` (False when it does not exist)."""
    return os.access(path, mode, effective_ids=_EFFECTIVE)


def ledger_file_problems(path: Path) -> list[str]:
    """One line per ledger file SQLite could not write; empty when all is well."""
    return file_problems(LedgerFileNames.of(path))


class LedgerFileNames:
    """A ledger's files and folder as strings, worked out once: `Database` checks them
    before every statement, the order's row on the tick-to-order path included."""

    __slots__ = ("files", "folder")

    def __init__(self, files: tuple[str, ...], folder: str) -> None:
        self.files = files
        self.folder = folder

    @classmethod
    def of(cls, path: Path) -> LedgerFileNames:
        return cls(tuple(str(f) for f in ledger_files(path)), str(path.parent))


def file_problems(names: LedgerFileNames) -> list[str]:
    """`ledger_file_problems` for names worked out before."""
    problems: list[str] = []
    missing = False
    for file in names.files:
        if writable(file):
            continue
        if os.path.lexists(file):
            problems.append(f"{file} is not writable")
        else:
            missing = True
    if missing and not writable(names.folder, os.W_OK | os.X_OK):
        problems.append(
            f"{names.folder} is not writable (SQLite creates the -wal/-shm files there)"
        )
    return problems


def describe(problems: list[str]) -> str:
    return (
        "ledger files not writable: "
        + "; ".join(problems)
        + " (read-only file or file system, or the immutable attribute: SQLite would crash "
        "the process writing its -shm index). Make them writable (chmod u+w, chattr -i) "
        "and start again"
    )


def check_ledger_files(path: Path) -> None:
    """Raise `LedgerFilesError` naming every unwritable ledger file."""
    problems = ledger_file_problems(path)
    if problems:
        raise LedgerFilesError(describe(problems))
